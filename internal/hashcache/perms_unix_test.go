//go:build unix

package hashcache

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The cache names the app's files: it and the directories Save creates
// are their owner's only, whatever the umask. The directories were 0755.
func TestSavePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	base := t.TempDir()
	path := filepath.Join(base, "appcfg", "hashes", "0123")
	c := Open(path)
	c.Store("a.txt", Stat{Size: 1, MTime: 1}, "f572d396fae9206628714fb2ce00f72e94f2258f")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{
		filepath.Join(base, "appcfg"): 0o700, filepath.Join(base, "appcfg", "hashes"): 0o700, path: 0o600,
	} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s is %v, want %v", p, st.Mode().Perm(), want)
		}
	}
}
