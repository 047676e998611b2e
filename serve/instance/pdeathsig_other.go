//go:build unix && !linux

package instance

import "syscall"

// dieWithParent: only Linux offers it; elsewhere an instance outlives a
// serve killed with SIGKILL.
func dieWithParent(*syscall.SysProcAttr) {}
