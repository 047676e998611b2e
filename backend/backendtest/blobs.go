package backendtest

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) blobTests() []subtest {
	return []subtest{
		{"PutThenNotMissing", s.testPutThenNotMissing},
		{"MissingKeepsOrder", s.testMissingKeepsOrder},
		{"PutIdempotent", s.testPutIdempotent},
		{"EmptyBlob", s.testEmptyBlob},
		{"DigestMismatch", s.testDigestMismatch},
		{"SizeMismatch", s.testSizeMismatch},
		{"BadDigestRefused", s.testBadDigestRefused},
		{"ConcurrentPutsOfOneBlob", s.testConcurrentPuts},
		{"Properties", s.testProperties},
		{"LostBlobIsMissing", s.testLostBlobIsMissing},
		{"CollectSparesDeployInFlight", s.testCollectSparesDeployInFlight},
	}
}

// A collection of unused blobs frees what no version names, but never a
// blob a deploy holding its lock has sent (or been told is held) for the
// version it has not created yet.
func (s suite) testCollectSparesDeployInFlight(t *testing.T) {
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	gc := capability[backend.BlobCollector](t, b, "blob collection")
	lk := capability[backend.Locker](t, b, "deploy locks")
	bs := newBlobs(t, 3)
	deploy(t, b, app, "default", "v1", bs[:1])
	putBlob(t, b, app, bs[1]) // unused, no deploy in flight
	_, err := gc.CollectBlobs(t.Context(), app)
	must(t, "CollectBlobs", err)
	if got := missing(t, b, app, digests(bs[:2])); !equalStrings(got, []string{bs[1].digest}) {
		t.Fatalf("MissingBlobs after a collection = %v, want only the unused blob %s", got, bs[1].digest)
	}

	key := backend.LockKey{App: app, Service: "default", Version: "v2"}
	tok, err := lk.AcquireLock(t.Context(), key, alice, lease)
	must(t, "AcquireLock", err)
	putBlob(t, b, app, bs[2])
	_, err = gc.CollectBlobs(t.Context(), app)
	must(t, "CollectBlobs during a deploy", err)
	spec := backend.VersionSpec{App: app, Service: "default", Version: "v2", Runtime: "python39",
		Files: []backend.FileRef{bs[0].ref("f0"), bs[2].ref("f2")}}
	if _, err := d.CreateVersion(t.Context(), spec); err != nil {
		t.Fatalf("CreateVersion after a collection during its deploy: %v", err)
	}
	must(t, "ReleaseLock", lk.ReleaseLock(t.Context(), key, tok))
}

// A blob whose stored content was lost behind the host's back is missing
// again, so the next deploy sends it instead of creating a version whose
// file cannot be served; sending it again repairs the host.
func (s suite) testLostBlobIsMissing(t *testing.T) {
	if s.opts.LoseBlob == nil {
		t.Skip("the backend's tests give no way to lose a blob (Options.LoseBlob)")
	}
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	bs := newBlobs(t, 2)
	putBlob(t, b, app, bs[0])
	putBlob(t, b, app, bs[1])
	s.opts.LoseBlob(t, b, bs[0].digest)
	if got, want := missing(t, b, app, digests(bs)), []string{bs[0].digest}; !equalStrings(got, want) {
		t.Fatalf("MissingBlobs after losing a blob = %v, want %v", got, want)
	}
	spec := backend.VersionSpec{App: app, Service: "default", Version: "v1", Runtime: "python39",
		Files: []backend.FileRef{bs[0].ref("f0"), bs[1].ref("f1")}}
	putBlob(t, b, app, bs[0])
	if got := missing(t, b, app, digests(bs)); len(got) != 0 {
		t.Fatalf("MissingBlobs after sending the lost blob again = %v, want none", got)
	}
	if _, err := d.CreateVersion(t.Context(), spec); err != nil {
		t.Fatalf("CreateVersion after the repair: %v", err)
	}
	if c, ok := b.(backend.Contents); ok {
		r, err := c.OpenBlob(t.Context(), app, bs[0].digest)
		must(t, "OpenBlob of the repaired blob", err)
		got, err := io.ReadAll(r)
		r.Close()
		must(t, "reading the repaired blob", err)
		if !bytes.Equal(got, bs[0].data) {
			t.Fatalf("the repaired blob reads %q, want %q", got, bs[0].data)
		}
	}
}

func (s suite) testPutThenNotMissing(t *testing.T) {
	b, app := s.open(t), newApp(t)
	bs := newBlobs(t, 3)
	if got := missing(t, b, app, digests(bs)); !equalStrings(got, digests(bs)) {
		t.Fatalf("MissingBlobs on an empty host = %v, want all %v", got, digests(bs))
	}
	putBlob(t, b, app, bs[0])
	putBlob(t, b, app, bs[2])
	if got, want := missing(t, b, app, digests(bs)), []string{bs[1].digest}; !equalStrings(got, want) {
		t.Fatalf("MissingBlobs after two puts = %v, want %v", got, want)
	}
	if got := missing(t, b, app, nil); len(got) != 0 {
		t.Fatalf("MissingBlobs(nil) = %v, want none", got)
	}
}

func (s suite) testMissingKeepsOrder(t *testing.T) {
	b, app := s.open(t), newApp(t)
	bs := newBlobs(t, 6)
	putBlob(t, b, app, bs[3])
	ask := []string{bs[5].digest, bs[3].digest, bs[0].digest, bs[4].digest, bs[2].digest, bs[1].digest}
	want := []string{bs[5].digest, bs[0].digest, bs[4].digest, bs[2].digest, bs[1].digest}
	if got := missing(t, b, app, ask); !equalStrings(got, want) {
		t.Fatalf("MissingBlobs = %v, want %v (the order asked, without the held one)", got, want)
	}
}

func (s suite) testPutIdempotent(t *testing.T) {
	b, app := s.open(t), newApp(t)
	bl := newBlobs(t, 1)[0]
	putBlob(t, b, app, bl)
	putBlob(t, b, app, bl)
	if got := missing(t, b, app, []string{bl.digest}); len(got) != 0 {
		t.Fatalf("MissingBlobs after putting twice = %v, want none", got)
	}
}

func (s suite) testEmptyBlob(t *testing.T) {
	b, app := s.open(t), newApp(t)
	bl := newBlob("")
	putBlob(t, b, app, bl)
	if got := missing(t, b, app, []string{bl.digest}); len(got) != 0 {
		t.Fatalf("MissingBlobs after putting the empty blob = %v, want none", got)
	}
}

func (s suite) testDigestMismatch(t *testing.T) {
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	bs := newBlobs(t, 2)
	// bs[1]'s content under bs[0]'s digest, same length.
	err := d.PutBlob(t.Context(), app, bs[0].digest, int64(len(bs[1].data)), bytes.NewReader(bs[1].data))
	wantErr(t, "PutBlob with the wrong content", err, backend.ErrDigestMismatch)
	if got := missing(t, b, app, []string{bs[0].digest}); len(got) != 1 {
		t.Fatalf("a blob whose content did not match was stored: MissingBlobs = %v", got)
	}
	// The host must still accept the right content afterwards.
	putBlob(t, b, app, bs[0])
}

func (s suite) testSizeMismatch(t *testing.T) {
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	bl := newBlobs(t, 1)[0]
	n := int64(len(bl.data))
	for _, tc := range []struct {
		name string
		size int64
		data []byte
	}{
		{"stream shorter than size", n + 1, bl.data},
		{"stream longer than size", n - 1, bl.data},
		{"truncated stream", n, bl.data[:n-1]},
	} {
		err := d.PutBlob(t.Context(), app, bl.digest, tc.size, bytes.NewReader(tc.data))
		wantErr(t, "PutBlob with "+tc.name, err, backend.ErrDigestMismatch)
	}
	if got := missing(t, b, app, []string{bl.digest}); len(got) != 1 {
		t.Fatalf("a blob whose size did not match was stored: MissingBlobs = %v", got)
	}
}

func (s suite) testBadDigestRefused(t *testing.T) {
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	for _, digest := range []string{"", "../../../../etc/passwd", strings.Repeat("A", 40), strings.Repeat("0", 39), strings.Repeat("g", 40)} {
		if err := d.PutBlob(t.Context(), app, digest, 0, bytes.NewReader(nil)); err == nil {
			t.Errorf("PutBlob accepted the digest %q, want an error", digest)
		}
	}
}

func (s suite) testConcurrentPuts(t *testing.T) {
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	bl := newBlob(strings.Repeat("concurrent "+t.Name()+" "+app+"\n", 20000))
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.PutBlob(t.Context(), app, bl.digest, int64(len(bl.data)), bytes.NewReader(bl.data))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent PutBlob %d: %v", i, err)
		}
	}
	confirm(t, b)
	if got := missing(t, b, app, []string{bl.digest}); len(got) != 0 {
		t.Fatalf("MissingBlobs after concurrent puts = %v, want none", got)
	}
}

func (s suite) testProperties(t *testing.T) {
	b := s.open(t)
	p := b.Properties()
	if p.Connections < 1 {
		t.Errorf("Properties().Connections = %d, want at least 1", p.Connections)
	}
	if p.MaxBlobSize < 0 {
		t.Errorf("Properties().MaxBlobSize = %d, want 0 (no limit) or a positive size", p.MaxBlobSize)
	}
	if b.Location() == "" {
		t.Error("Location() is empty")
	}
}
