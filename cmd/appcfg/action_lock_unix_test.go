//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// shareModuleVersion takes a shared lock on a file naming version for as
// long as the test runs: two test processes of the same checkout (the same
// version) may run TestAction at once, and one must not remove the
// module's files from the module cache while the other builds from them.
// The returned function, called when the test ends, runs remove if no other
// process holds the lock, holding it exclusively meanwhile.
func shareModuleVersion(t *testing.T, version string) (ifSoleUser func(remove func())) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "appcfg-testaction-"+version+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		t.Fatalf("locking %s: %v", f.Name(), err)
	}
	return func(remove func()) {
		defer f.Close()
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			remove()
		}
	}
}
