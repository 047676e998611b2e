//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"

	"github.com/appcfg/appcfg/backend"
)

// staleOwner reports whether a lock's owner is a process of this host that
// no longer exists: its deploy crashed, so waiting for its lease to expire
// would only make the user wait.
func staleOwner(o backend.Owner) bool {
	host, err := os.Hostname()
	if err != nil || o.Host != host || o.PID <= 0 || o.PID == os.Getpid() {
		return false
	}
	err = syscall.Kill(o.PID, 0)
	return errors.Is(err, syscall.ESRCH)
}
