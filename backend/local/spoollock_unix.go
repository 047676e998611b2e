//go:build unix

package local

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockSpool takes f's exclusive lock without waiting and reports whether
// it got it. The process that writes a spool holds its lock until it
// closes it, so a spool whose lock is free was left by a process that is
// gone (the kernel drops a killed process's locks).
func lockSpool(f *os.File) bool {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
}

// lockable: lockSpool works here.
const lockable = true
