//go:build unix

package serve_test

import "syscall"

// alive reports whether a process with that id exists (signal 0 checks
// without sending anything).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
