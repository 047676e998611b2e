//go:build unix

package local

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// withUmask runs the test body under umask, restoring the old one after.
func withUmask(t *testing.T, umask int) {
	t.Helper()
	old := syscall.Umask(umask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// checkPrivate fails for any file under root readable by others than its
// owner (0600) and any directory below root not 0700.
func checkPrivate(t *testing.T, root string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case p == root:
		case st.IsDir() && st.Mode().Perm() != 0o700:
			t.Errorf("directory %s is %v, want 0700", p, st.Mode().Perm())
		case !st.IsDir() && st.Mode().Perm() != 0o600:
			t.Errorf("file %s is %v, want 0600", p, st.Mode().Perm())
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 6 {
		t.Fatalf("only %d entries under %s: the test wrote less than it meant to", n, root)
	}
}

// Every file the store creates is its owner's only, whatever the umask and
// even in a directory that already existed: the database holds request
// logs (query strings with tokens) and entities. appcfg.db and its -wal and
// -shm were 0644.
func TestStoreFilesPrivate(t *testing.T) {
	withUmask(t, 0)
	root := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	b := openAt(t, root)
	put(t, b, "app", []byte("private content"))
	err := b.WriteLogs(t.Context(), "app", []backend.RequestLog{{Time: time.Now(), Method: "GET", Resource: "/?token=secret", Status: 200, Service: "default", Version: "v1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{dbName, dbName + "-wal", dbName + "-shm"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("%s: %v (the test expects it while the store is open)", f, err)
		}
	}
	checkPrivate(t, root)
}

// A store an older appcfg left world-readable is made private when opened.
func TestStoreFilesMadePrivate(t *testing.T) {
	withUmask(t, 0o022)
	root := t.TempDir()
	b := openAt(t, root)
	put(t, b, "app", []byte("x"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(root, dbName)
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	openAt(t, root)
	if st, err := os.Stat(db); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s after reopening: %v %v, want 0600", db, st.Mode().Perm(), err)
	}
}
