//go:build !unix

package main

import "github.com/appcfg/appcfg/backend"

// staleOwner cannot tell a dead process on this platform; locks then free
// themselves when their lease expires.
func staleOwner(backend.Owner) bool { return false }
