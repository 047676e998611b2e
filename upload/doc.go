// Package upload deploys one version of an application to a hosting
// backend: it hashes the files chosen for upload, asks the host which
// contents it lacks, sends only those in parallel, creates the version from
// its manifest, routes traffic to it, and has the companion configurations
// (indexes, cron, queues, dispatch, DoS) pushed through its Companions
// (package companion, wired in by cmd/appcfg).
//
// A deploy holds the host's lock on the version for its whole run, renewing
// a short lease, so a crashed deploy frees the version by itself. Every blob
// the host confirmed is durable there, so a deploy interrupted at any point
// is resumed by running it again: the next run finds those blobs present and
// sends only the rest.
//
// The package prints nothing: progress goes to a progress.Reporter and the
// outcome is returned as a Result.
package upload
