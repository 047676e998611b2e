package local

import (
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appmodel"
)

// The stamp changes with every change to the versions, made through this
// store or another process's (a second open of the same root), and stays
// the same otherwise: serve keeps its version list while it does.
func TestVersionsStampChangesWithVersions(t *testing.T) {
	dir := t.TempDir()
	b, other := openAt(t, dir), openAt(t, dir)
	ctx := t.Context()
	data := []byte("package main\n")
	d := put(t, b, "app", data)
	spec := func(v string) backend.VersionSpec {
		return backend.VersionSpec{App: "app", Service: "default", Version: v, Runtime: "go122", Model: &appmodel.App{Runtime: "go122"},
			Files: []backend.FileRef{{Path: "main.go", SHA1: d, Size: int64(len(data))}}}
	}
	stamp := b.VersionsStamp()
	if stamp == "" {
		t.Fatal("a new store has no stamp")
	}
	if again := other.VersionsStamp(); again != stamp {
		t.Fatalf("two readers of one store see stamps %q and %q", stamp, again)
	}
	changes := []struct {
		what string
		do   func() error
	}{
		{"CreateVersion v1", func() error { _, err := b.CreateVersion(ctx, spec("v1")); return err }},
		{"CreateVersion v2 (another process)", func() error { _, err := other.CreateVersion(ctx, spec("v2")); return err }},
		{"SetTraffic", func() error { return b.SetTraffic(ctx, "app", "default", map[string]float64{"v1": 1}, false) }},
		{"SetServingStatus (another process)", func() error { return other.SetServingStatus(ctx, "app", "default", "v1", backend.Stopped) }},
		{"DeleteVersion", func() error { return b.DeleteVersion(ctx, "app", "default", "v2") }},
		{"redeploy of v1", func() error { _, err := b.CreateVersion(ctx, spec("v1")); return err }},
	}
	for _, c := range changes {
		if err := c.do(); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		now := b.VersionsStamp()
		if now == stamp || now == "" {
			t.Errorf("after %s the stamp is %q, was %q: want a new one", c.what, now, stamp)
		}
		if o := other.VersionsStamp(); o != now {
			t.Errorf("after %s the two opens see %q and %q", c.what, now, o)
		}
		stamp = now
	}
	// Writing logs or reading versions changes nothing.
	if err := b.WriteLogs(ctx, "app", []backend.RequestLog{{Method: "GET", Resource: "/", Status: 200, Service: "default", Version: "v1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ListVersions(ctx, "app", ""); err != nil {
		t.Fatal(err)
	}
	if now := b.VersionsStamp(); now != stamp {
		t.Errorf("a log write changed the stamp from %q to %q", stamp, now)
	}
}
