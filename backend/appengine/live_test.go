package appengine

import (
	"strings"
	"testing"

	"github.com/appcfg/appcfg/appconfig/appconfigtest"
	"github.com/appcfg/appcfg/backend"
)

// TestLiveAsIs: a version is live as it is only when its FULL view is what
// versions.create of the spec would make, it is serving, no operation on
// its service is pending and (when promoting) it has all of the traffic;
// the answer costs at most three reads (the app's was made once, by the
// bucket lookup), none of them of the staging bucket, and writes nothing.
func TestLiveAsIs(t *testing.T) {
	b, f := newTestBackend(t)
	ctx := t.Context()
	one, two := []byte("print(1)\n"), []byte("print(2)\n")
	d1, d2 := putBytes(t, b, one), putBytes(t, b, two)
	spec := func(version, yaml string) backend.VersionSpec {
		return backend.VersionSpec{App: "p", Service: "default", Version: version, Runtime: "python312",
			Model: appconfigtest.Model(t, "app.yaml", "runtime: python312\n"+yaml),
			Files: []backend.FileRef{{Path: "a.py", SHA1: d1, Size: int64(len(one))}, {Path: "b.py", SHA1: d2, Size: int64(len(two))}}}
	}
	for _, v := range []string{"v1", "v2"} {
		if _, err := b.CreateVersion(ctx, spec(v, "")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetTraffic(ctx, "p", "default", map[string]float64{"v1": 1}, false); err != nil {
		t.Fatal(err)
	}
	check := func(what string, s backend.VersionSpec, promote, want bool) {
		t.Helper()
		before := len(f.callLog())
		v, live, err := b.LiveAsIs(ctx, s, promote)
		if err != nil || live != want || (live && (v.ID != s.Version || v.Files != len(s.Files) || promote && v.Traffic != 1)) {
			t.Errorf("%s: LiveAsIs = %+v, %v, %v; want live %v", what, v, live, err, want)
		}
		calls := f.callLog()[before:]
		max := 2
		if promote {
			max = 3
		}
		if len(calls) > max {
			t.Errorf("%s: LiveAsIs made %d calls, want at most %d:\n%s", what, len(calls), max, strings.Join(calls, "\n"))
		}
		for _, c := range calls {
			if !strings.HasPrefix(c, "GET /v1/apps/p/") {
				t.Errorf("%s: LiveAsIs made the call %q", what, c)
			}
		}
	}
	check("deployed and promoted", spec("v1", ""), true, true)
	check("no traffic, promoting", spec("v2", ""), true, false)
	check("no traffic, not promoting", spec("v2", ""), false, true)
	changed := spec("v1", "")
	changed.Files = changed.Files[:1]
	check("a file fewer", changed, true, false)
	changed = spec("v1", "")
	changed.Files[1].SHA1 = d1
	check("a file changed", changed, true, false)
	check("other configuration", spec("v1", "instance_class: F2\n"), true, false)
	// A new version id, the usual deploy, costs one read, which the
	// deploy's SameVersion then takes instead of reading again.
	before := len(f.callLog())
	check("unknown version", spec("v3", ""), true, false)
	if same, err := b.SameVersion(ctx, spec("v3", "")); same || err != nil {
		t.Errorf("SameVersion of a missing version = %v, %v", same, err)
	}
	if calls := f.callLog()[before:]; len(calls) != 1 {
		t.Errorf("LiveAsIs and SameVersion of a missing version made %d calls, want 1:\n%s", len(calls), strings.Join(calls, "\n"))
	}
	check("unknown service", backend.VersionSpec{App: "p", Service: "api", Version: "v1", Runtime: "python312",
		Model: spec("v1", "").Model, Files: spec("v1", "").Files}, true, false)

	if err := b.SetTraffic(ctx, "p", "default", map[string]float64{"v1": 0.5, "v2": 0.5}, false); err != nil {
		t.Fatal(err)
	}
	check("half of the traffic, promoting", spec("v1", ""), true, false)
	check("half of the traffic, not promoting", spec("v1", ""), false, true)
	if err := b.SetTraffic(ctx, "p", "default", map[string]float64{"v1": 1}, false); err != nil {
		t.Fatal(err)
	}
	if err := b.SetServingStatus(ctx, "p", "default", "v1", backend.Stopped); err != nil {
		t.Fatal(err)
	}
	check("stopped", spec("v1", ""), true, false)
	if err := b.SetServingStatus(ctx, "p", "default", "v1", backend.Serving); err != nil {
		t.Fatal(err)
	}
	check("started again", spec("v1", ""), true, true)

	// A deploy in flight holds its operation on the service (App Engine
	// has no deploy lock); one on another service does not count, one
	// that does not say what it is on does.
	inFlight := func(name, target string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		md := map[string]any{"@type": "type.googleapis.com/google.appengine.v1.OperationMetadataV1",
			"method": "google.appengine.v1.Versions.CreateVersion", "user": "alice@example.com"}
		if target != "" {
			md["target"] = target
		}
		f.ops["apps/p/operations/"+name] = &fakeOp{polls: 1 << 30, op: map[string]any{"name": "apps/p/operations/" + name, "done": true, "metadata": md}}
	}
	done := func(name string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ops["apps/p/operations/"+name].polls = 0
	}
	inFlight("other", "apps/p/services/api/versions/v9")
	check("a deploy in flight on another service", spec("v1", ""), true, true)
	inFlight("create", "apps/p/services/default/versions/v7")
	check("a deploy in flight on the service", spec("v1", ""), true, false)
	check("a deploy in flight on the service, not promoting", spec("v1", ""), false, false)
	done("create")
	check("the deploy done", spec("v1", ""), true, true)
	inFlight("untold", "")
	check("an operation in flight on no told target", spec("v1", ""), true, false)
}
