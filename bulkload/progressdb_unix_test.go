//go:build unix

package bulkload

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The progress database records what was loaded from where: it is its
// owner's only (0600), -wal and -shm included, whatever the umask. It was
// 0644.
func TestProgressDBPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "progress.sql3")
	p, err := openProgress(t.Context(), path, "sig")
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatalf("%s: %v (the test expects it while the database is open)", f, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", f, st.Mode().Perm())
		}
	}
}
