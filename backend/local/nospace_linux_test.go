//go:build linux

package local

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appmodel"
	"golang.org/x/sys/unix"
)

// smallDisk mounts a tmpfs of size bytes for the test, or skips it where
// mounting is not allowed (not root, no CAP_SYS_ADMIN).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes zeros to a file on dir's disk until it is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := 0; i < 1<<16; i++ { // bounded: at most 4 GiB
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
	t.Fatal("the disk never filled")
}

// On a full disk, a store opens and answers reads (it failed with "disk
// I/O error (4874)": SQLite could not size its -shm), and writes fail
// saying "no space left on device" and where.
func TestFullDisk(t *testing.T) {
	root := filepath.Join(smallDisk(t, "4m"), "store")
	b, err := Open(t.Context(), "", Config{Root: root}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	d := put(t, b, "app", []byte("index"))
	if _, err := b.CreateVersion(t.Context(), backend.VersionSpec{App: "app", Service: "default", Version: "v1", Runtime: "python27",
		Model: &appmodel.App{Runtime: "python27"}, Files: []backend.FileRef{{Path: "index.html", SHA1: d, Size: 5}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteLogs(t.Context(), "app", []backend.RequestLog{{Time: time.Now(), Method: "GET", Resource: "/", Status: 200, Service: "default", Version: "v1"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	fill(t, filepath.Dir(root))

	b, err = Open(t.Context(), "", Config{Root: root}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatalf("opening a store on a full disk: %v", err)
	}
	defer b.Close()
	vs, err := b.ListVersions(t.Context(), "app", "")
	if err != nil || len(vs) != 1 || vs[0].ID != "v1" {
		t.Fatalf("listing versions on a full disk: %v %v", vs, err)
	}
	if spec, err := b.Manifest(t.Context(), "app", "default", "v1"); err != nil || len(spec.Files) != 1 {
		t.Fatalf("reading a manifest on a full disk: %+v %v", spec, err)
	}
	n := 0
	if err := b.ReadLogs(t.Context(), backend.LogQuery{App: "app", End: time.Now().Add(time.Hour)}, func(backend.RequestLog) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("reading logs on a full disk: %d, %v", n, err)
	}
	rc, err := b.OpenBlob(t.Context(), "app", d)
	if err != nil {
		t.Fatalf("reading a blob on a full disk: %v", err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "index" {
		t.Fatalf("blob %q", data)
	}

	big := bytes.Repeat([]byte("x"), 256<<10)
	writes := map[string]error{
		"PutBlob":    b.PutBlob(t.Context(), "app", sha1hex(big), int64(len(big)), bytes.NewReader(big)),
		"SetTraffic": b.SetTraffic(t.Context(), "app", "default", map[string]float64{"v1": 1}, false),
		"WriteLogs":  b.WriteLogs(t.Context(), "app", []backend.RequestLog{{Time: time.Now(), Method: "GET", Resource: "/" + strings.Repeat("x", 8000), Status: 200, Service: "default", Version: "v1"}}),
		// The entity committer's own connection is not one of the pool's:
		// a store opened with exclusive locking admits it not at all, and
		// it must say so at once, not wait out the busy timeout.
		"PutEntities": func() error {
			_, err := b.PutEntities(t.Context(), "app", []backend.Entity{{Key: &backend.Key{Path: []backend.PathElement{{Kind: "K", ID: 1}}}, Properties: map[string]backend.Value{}}})
			return err
		}(),
	}
	for name, err := range writes {
		var ns *NoSpaceError
		if !errors.As(err, &ns) || !errors.Is(err, syscall.ENOSPC) ||
			!strings.Contains(err.Error(), "no space left on device ("+root+")") || !strings.Contains(err.Error(), "free some space") {
			t.Errorf("%s on a full disk: %v; want no space left on device (%s) and what to free", name, err, root)
		}
	}
}
