//go:build !unix

package local

import "os"

// lockSpool cannot tell a live spool from a dead one here: every spool
// counts as live, so readers fold it but only its writer removes it.
func lockSpool(*os.File) bool { return false }

// lockable: lockSpool does not work here.
const lockable = false
