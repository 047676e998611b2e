package local

import (
	"os"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appmodel"
)

// TestLiveAsIs: a version counts as live as it is only when it has the
// same files and configuration, runs, holds every content in place, has
// no lock row and (when promoting) all the traffic; the answer is the
// same with and without a Prefetch before it, and a Prefetch'ed answer
// still sees a blob file lost before the deploy began.
func TestLiveAsIs(t *testing.T) {
	for _, prefetch := range []bool{false, true} {
		b := openAt(t, t.TempDir())
		ctx := t.Context()
		one, two := []byte("print(1)\n"), []byte("print(2)\n")
		d1, d2 := put(t, b, "app", one), put(t, b, "app", two)
		spec := func(version string) backend.VersionSpec {
			return backend.VersionSpec{App: "app", Service: "default", Version: version, Runtime: "python312",
				Model: &appmodel.App{Runtime: "python312"}, Files: []backend.FileRef{
					{Path: "a.py", SHA1: d1, Size: int64(len(one))}, {Path: "b.py", SHA1: d2, Size: int64(len(two))}}}
		}
		for _, v := range []string{"v1", "v2"} {
			if _, err := b.CreateVersion(ctx, spec(v)); err != nil {
				t.Fatal(err)
			}
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(b.SetTraffic(ctx, "app", "default", map[string]float64{"v1": 1}, false))
		check := func(what string, s backend.VersionSpec, promote, want bool) {
			t.Helper()
			if prefetch {
				b.Prefetch(ctx, s.App)
			}
			v, live, err := b.LiveAsIs(ctx, s, promote)
			if err != nil || live != want || (live && (v.ID != s.Version || v.Files != len(s.Files))) {
				t.Errorf("prefetch %v, %s: LiveAsIs = %+v, %v, %v; want live %v", prefetch, what, v, live, err, want)
			}
		}
		check("deployed and promoted", spec("v1"), true, true)
		check("no traffic, promoting", spec("v2"), true, false)
		check("no traffic, not promoting", spec("v2"), false, true)
		changed := spec("v1")
		changed.Files = changed.Files[:1]
		check("other files", changed, true, false)
		changed = spec("v1")
		changed.Runtime = "python313"
		check("other runtime", changed, true, false)
		check("unknown version", spec("v3"), false, false)

		must(b.SetServingStatus(ctx, "app", "default", "v2", backend.Stopped))
		check("stopped", spec("v2"), false, false)

		key := backend.LockKey{App: "app", Service: "default", Version: "v1"}
		tok, err := b.AcquireLock(ctx, key, backend.Owner{User: "other"}, time.Minute)
		must(err)
		check("locked", spec("v1"), true, false)
		must(b.ReleaseLock(ctx, key, tok))
		b.now = func() time.Time { return time.Now().Add(-time.Hour) }
		_, err = b.AcquireLock(ctx, key, backend.Owner{User: "killed"}, time.Minute)
		must(err)
		b.now = time.Now
		check("an expired lock left behind", spec("v1"), true, false)
		_, err = b.BreakLock(ctx, key)
		must(err)
		check("lock freed", spec("v1"), true, true)

		must(os.Truncate(b.blobPath(d2), 3))
		check("a blob file truncated", spec("v1"), true, false)
		must(os.Remove(b.blobPath(d2)))
		check("a blob file removed", spec("v1"), true, false)
		if miss, err := b.MissingBlobs(ctx, "app", []string{d1, d2}); err != nil || len(miss) != 1 || miss[0] != d2 {
			t.Errorf("prefetch %v: MissingBlobs after the file was removed = %v, %v; want [%s]", prefetch, miss, err, d2)
		}
	}
}
