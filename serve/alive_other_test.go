//go:build !unix

package serve_test

import "os"

// alive reports whether a process with that id exists: elsewhere than on
// Unix, finding it opens it, which fails once it has exited.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release() //nolint:errcheck // only the handle is released
	return true
}
