package backendtest

import (
	"errors"
	"math"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) versionTests() []subtest {
	return []subtest{
		{"CreateReportsVersion", s.testCreateReportsVersion},
		{"CreateNeedsAllBlobs", s.testCreateNeedsAllBlobs},
		{"ReplaceKeepsTraffic", s.testReplaceKeepsTraffic},
		{"ListSorted", s.testListSorted},
		{"VersionNotFound", s.testVersionNotFound},
		{"TrafficSplit", s.testTrafficSplit},
		{"TrafficValidation", s.testTrafficValidation},
		{"ServingStatus", s.testServingStatus},
		{"DeleteRefusesServing", s.testDeleteRefusesServing},
	}
}

func (s suite) testCreateReportsVersion(t *testing.T) {
	b, app := s.open(t), newApp(t)
	bs := newBlobs(t, 3)
	// Two paths sharing one blob count twice in the totals.
	bs = append(bs, bs[0])
	v := deploy(t, b, app, "default", "v1", bs)
	var bytes int64
	for _, bl := range bs {
		bytes += int64(len(bl.data))
	}
	if v.App != app || v.Service != "default" || v.ID != "v1" || v.Runtime != "python39" {
		t.Errorf("CreateVersion returned %+v, want app %s, service default, id v1, runtime python39", v, app)
	}
	if v.Files != 4 || v.Bytes != bytes {
		t.Errorf("CreateVersion returned %d files, %d bytes; want 4, %d", v.Files, v.Bytes, bytes)
	}
	if v.Created.IsZero() {
		t.Error("CreateVersion returned a zero Created time")
	}
}

func (s suite) testCreateNeedsAllBlobs(t *testing.T) {
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	bs := newBlobs(t, 3)
	putBlob(t, b, app, bs[1])
	spec := backend.VersionSpec{App: app, Service: "default", Version: "v1", Runtime: "python39",
		Files: []backend.FileRef{bs[0].ref("a"), bs[1].ref("b"), bs[2].ref("c")}}
	_, err := d.CreateVersion(t.Context(), spec)
	var mb *backend.MissingBlobsError
	if !errors.As(err, &mb) {
		t.Fatalf("CreateVersion without all blobs: got %v, want a *MissingBlobsError", err)
	}
	got := append([]string(nil), mb.Digests...)
	if len(got) != 2 || !(got[0] == bs[0].digest && got[1] == bs[2].digest || got[0] == bs[2].digest && got[1] == bs[0].digest) {
		t.Fatalf("MissingBlobsError lists %v, want exactly %s and %s", got, bs[0].digest, bs[2].digest)
	}
	if vs, ok := b.(backend.Versions); ok {
		_, err := vs.Version(t.Context(), app, "default", "v1")
		wantErr(t, "Version after a refused CreateVersion", err, backend.ErrNotFound)
	}
}

func (s suite) testReplaceKeepsTraffic(t *testing.T) {
	b, app := s.open(t), newApp(t)
	vs := capability[backend.Versions](t, b, "versions")
	bs := newBlobs(t, 3)
	deploy(t, b, app, "default", "v1", bs[:1])
	deploy(t, b, app, "default", "v2", bs[:1])
	must(t, "SetTraffic", vs.SetTraffic(t.Context(), app, "default", map[string]float64{"v1": 0.25, "v2": 0.75}, false))
	replaced := deploy(t, b, app, "default", "v1", bs)
	if replaced.Files != 3 {
		t.Errorf("replaced version has %d files, want 3", replaced.Files)
	}
	got, err := vs.Version(t.Context(), app, "default", "v1")
	must(t, "Version", err)
	if math.Abs(got.Traffic-0.25) > 1e-9 || got.Files != 3 {
		t.Fatalf("after replacing v1: traffic %v, files %d; want traffic 0.25 kept, 3 files", got.Traffic, got.Files)
	}
}

func (s suite) testListSorted(t *testing.T) {
	b, app := s.open(t), newApp(t)
	vs := capability[backend.Versions](t, b, "versions")
	bs := newBlobs(t, 1)
	for _, sv := range [][2]string{{"default", "b"}, {"api", "z"}, {"default", "a"}, {"default", "c"}, {"api", "m"}} {
		deploy(t, b, app, sv[0], sv[1], bs)
	}
	list, err := vs.ListVersions(t.Context(), app, "")
	must(t, "ListVersions", err)
	var got []string
	for _, v := range list {
		got = append(got, v.Service+"/"+v.ID)
	}
	if want := []string{"api/m", "api/z", "default/a", "default/b", "default/c"}; !equalStrings(got, want) {
		t.Fatalf("ListVersions(all) = %v, want %v", got, want)
	}
	list, err = vs.ListVersions(t.Context(), app, "api")
	must(t, "ListVersions(api)", err)
	got = got[:0]
	for _, v := range list {
		got = append(got, v.Service+"/"+v.ID)
	}
	if want := []string{"api/m", "api/z"}; !equalStrings(got, want) {
		t.Fatalf("ListVersions(api) = %v, want %v", got, want)
	}
}

func (s suite) testVersionNotFound(t *testing.T) {
	b, app := s.open(t), newApp(t)
	vs := capability[backend.Versions](t, b, "versions")
	_, err := vs.Version(t.Context(), app, "default", "nope")
	wantErr(t, "Version of an unknown app", err, backend.ErrNotFound)
	deploy(t, b, app, "default", "v1", newBlobs(t, 1))
	_, err = vs.Version(t.Context(), app, "default", "nope")
	wantErr(t, "Version of an unknown version", err, backend.ErrNotFound)
	_, err = vs.Version(t.Context(), app, "other", "v1")
	wantErr(t, "Version in an unknown service", err, backend.ErrNotFound)
}

// traffic returns each version's share of the default service.
func traffic(t *testing.T, vs backend.Versions, app string) map[string]float64 {
	t.Helper()
	list, err := vs.ListVersions(t.Context(), app, "default")
	must(t, "ListVersions", err)
	m := make(map[string]float64)
	for _, v := range list {
		m[v.ID] = v.Traffic
	}
	return m
}

func sameShares(got, want map[string]float64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9 {
			return false
		}
	}
	return true
}

func (s suite) testTrafficSplit(t *testing.T) {
	b, app := s.open(t), newApp(t)
	vs := capability[backend.Versions](t, b, "versions")
	bs := newBlobs(t, 1)
	for _, v := range []string{"a", "b", "c"} {
		deploy(t, b, app, "default", v, bs)
	}
	split := map[string]float64{"a": 0.5, "b": 0.5}
	for range 2 { // idempotent
		must(t, "SetTraffic", vs.SetTraffic(t.Context(), app, "default", split, false))
		if got, want := traffic(t, vs, app), map[string]float64{"a": 0.5, "b": 0.5, "c": 0}; !sameShares(got, want) {
			t.Fatalf("traffic = %v, want %v", got, want)
		}
	}
	must(t, "SetTraffic(migrate)", vs.SetTraffic(t.Context(), app, "default", map[string]float64{"c": 1}, true))
	if got, want := traffic(t, vs, app), map[string]float64{"a": 0, "b": 0, "c": 1}; !sameShares(got, want) {
		t.Fatalf("traffic after moving all to c = %v, want %v (versions not named get none)", got, want)
	}
}

// twoVersionsAServing deploys versions a and b of the default service of a
// new app, from the same blobs, with all traffic on a.
func (s suite) twoVersionsAServing(t *testing.T) (backend.Backend, backend.Versions, string, []blob) {
	t.Helper()
	b, app := s.open(t), newApp(t)
	vs := capability[backend.Versions](t, b, "versions")
	bs := newBlobs(t, 1)
	deploy(t, b, app, "default", "a", bs)
	deploy(t, b, app, "default", "b", bs)
	must(t, "SetTraffic", vs.SetTraffic(t.Context(), app, "default", map[string]float64{"a": 1}, false))
	return b, vs, app, bs
}

func (s suite) testTrafficValidation(t *testing.T) {
	_, vs, app, _ := s.twoVersionsAServing(t)
	want := map[string]float64{"a": 1, "b": 0}
	for _, bad := range []map[string]float64{
		{"a": 0.5, "b": 0.4},
		{"a": 0.5, "b": 0.6},
		{"a": 1, "b": 0},
		{"a": 1.5, "b": -0.5},
		{},
	} {
		if err := vs.SetTraffic(t.Context(), app, "default", bad, false); err == nil {
			t.Errorf("SetTraffic(%v) succeeded, want an error", bad)
		}
	}
	err := vs.SetTraffic(t.Context(), app, "default", map[string]float64{"a": 0.5, "nope": 0.5}, false)
	wantErr(t, "SetTraffic naming an unknown version", err, backend.ErrNotFound)
	if got := traffic(t, vs, app); !sameShares(got, want) {
		t.Fatalf("a refused SetTraffic changed the traffic to %v, want %v", got, want)
	}
}

func (s suite) testServingStatus(t *testing.T) {
	b, app := s.open(t), newApp(t)
	vs := capability[backend.Versions](t, b, "versions")
	deploy(t, b, app, "default", "v1", newBlobs(t, 1))
	for _, st := range []backend.ServingStatus{backend.Stopped, backend.Stopped, backend.Serving, backend.Serving} {
		must(t, "SetServingStatus", vs.SetServingStatus(t.Context(), app, "default", "v1", st))
		v, err := vs.Version(t.Context(), app, "default", "v1")
		must(t, "Version", err)
		if v.ServingStatus != st {
			t.Fatalf("after SetServingStatus(%s) the status is %s", st, v.ServingStatus)
		}
	}
	err := vs.SetServingStatus(t.Context(), app, "default", "nope", backend.Stopped)
	wantErr(t, "SetServingStatus of an unknown version", err, backend.ErrNotFound)
}

func (s suite) testDeleteRefusesServing(t *testing.T) {
	b, vs, app, bs := s.twoVersionsAServing(t)
	err := vs.DeleteVersion(t.Context(), app, "default", "a")
	wantErr(t, "DeleteVersion of the serving version", err, backend.ErrVersionServing)
	if _, err := vs.Version(t.Context(), app, "default", "a"); err != nil {
		t.Fatalf("a refused DeleteVersion removed the version: %v", err)
	}
	must(t, "DeleteVersion", vs.DeleteVersion(t.Context(), app, "default", "b"))
	_, err = vs.Version(t.Context(), app, "default", "b")
	wantErr(t, "Version after DeleteVersion", err, backend.ErrNotFound)
	err = vs.DeleteVersion(t.Context(), app, "default", "b")
	wantErr(t, "DeleteVersion of a deleted version", err, backend.ErrNotFound)
	// Its blobs were not the version's to remove: a redeploy needs none.
	if got := missing(t, b, app, digests(bs)); len(got) != 0 {
		t.Fatalf("after DeleteVersion the host lacks %v, which the other version still uses", got)
	}
}
