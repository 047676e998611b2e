// Package local is appcfg's embedded default backend: it keeps apps, versions
// and their files on this machine, so `appcfg update` works with no account
// and no network.
//
// # Layout of a store
//
// A store is one directory (by default $XDG_DATA_HOME/appcfg):
//
//	appcfg.db             SQLite database (WAL journal) with apps, services,
//	                      versions, manifests, traffic, locks, configs, indexes
//	blobs/ab/cdef…        file content, named by its SHA-1 (first two hex
//	                      digits are the directory)
//
// # Consistency
//
// Every change to the database is one IMMEDIATE transaction, and connections
// wait (busy_timeout) rather than fail when another process writes, so several
// appcfg processes can use one store at once. A blob file is written to a
// temporary file in its final directory, hashed while it is written, checked
// against its digest and size, and renamed into place; it is recorded in the
// database only after the commit that records it has made it durable.
// Concurrent uploads share that commit: one caller syncs the file system
// (syncfs on Linux; each file and directory elsewhere) and records every
// upload waiting at that moment, so a deploy pays for a sync per batch, not
// per file, and each PutBlob still returns only once its blob is durable. A
// blob already recorded (for any app) is only verified, never rewritten, so
// a durable file is never replaced by one not yet synced. A crash therefore
// leaves at worst an unrecorded file, which the next deploy sends again,
// never a recorded blob whose content is missing or wrong. MissingBlobs
// trusts the records; OpenBlob reports a file lost behind the store's back,
// and sending the blob again repairs it.
//
// The schema carries its version in SQLite's user_version; opening a store
// applies the migrations it lacks inside one transaction.
package local
