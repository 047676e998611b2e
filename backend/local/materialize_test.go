package local

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

// A version is laid out as hard links to its blobs (no copies), in a
// read-only tree reused until the version is redeployed.
func TestMaterializeLinksBlobs(t *testing.T) {
	b := openAt(t, t.TempDir())
	a := put(t, b, "app", []byte("first file\n"))
	put(t, b, "app", []byte("second file\n"))
	createVersion(t, b, "app", "v1", "first file\n", "second file\n")
	dir, err := b.Materialize(t.Context(), "app", "default", "v1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "fa"))
	if err != nil || string(got) != "first file\n" {
		t.Fatalf("fa = %q, %v", got, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "fa"))
	if err != nil {
		t.Fatal(err)
	}
	bi, err := os.Stat(b.blobPath(a))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fi, bi) {
		t.Error("fa is a copy, not a hard link to its blob")
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm()&0o222 != 0 {
		t.Errorf("the layout is writable: %v %v", di.Mode(), err)
	}
	if fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("a laid-out file is writable: %v", fi.Mode())
	}
	again, err := b.Materialize(t.Context(), "app", "default", "v1")
	if err != nil || again != dir {
		t.Errorf("second layout %q, %v; want the same %q", again, err, dir)
	}
	put(t, b, "app", []byte("third file\n"))
	createVersion(t, b, "app", "v1", "third file\n")
	redeployed, err := b.Materialize(t.Context(), "app", "default", "v1")
	if err != nil || redeployed == dir {
		t.Errorf("after a redeploy: %q, %v; want a new layout", redeployed, err)
	}
}

// A blob damaged in the store is not laid out: nothing runs content the
// store does not vouch for.
func TestMaterializeRefusesDamagedBlob(t *testing.T) {
	b := openAt(t, t.TempDir())
	d := put(t, b, "app", []byte("good content\n"))
	createVersion(t, b, "app", "v1", "good content\n")
	if err := os.WriteFile(b.blobPath(d), []byte("evil content\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := b.Materialize(t.Context(), "app", "default", "v1")
	if !errors.Is(err, backend.ErrDigestMismatch) {
		t.Fatalf("Materialize of a damaged blob: %v, want ErrDigestMismatch", err)
	}
	entries, _ := os.ReadDir(filepath.Join(b.root, runDir, "app", "default", "v1"))
	if len(entries) != 0 {
		t.Errorf("a failed layout left %d entries behind", len(entries))
	}
}
