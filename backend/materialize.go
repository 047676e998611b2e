package backend

import "context"

// Materializer is the capability to lay a deployed version's files out as a
// directory tree on this machine, for a host that runs the version's code
// (the local host's instances). Only a host whose blobs are files here can
// have it.
type Materializer interface {
	// Materialize returns a directory holding exactly the version's files
	// at their paths, each checked against its SHA-1 and size first, so an
	// instance never runs content the store does not vouch for. The tree is
	// read-only and must not be changed: it may share its files with the
	// store (hard links, no copies). A version materialized before, and not
	// redeployed since, returns the same directory at once.
	Materialize(ctx context.Context, app, service, version string) (dir string, err error)
}
