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
// against its digest and size, fsynced, renamed into place and its directory
// fsynced; only then is it recorded in the database. Concurrent uploads share
// that last step: one caller fsyncs the directories and commits the records
// of every upload waiting at that moment, so a deploy pays for a commit per
// batch, not per file, and each PutBlob still returns only once its blob is
// durable. A crash therefore leaves
// at worst an unreferenced temporary file, never a recorded blob whose file is
// missing or wrong. MissingBlobs trusts a blob only when both its row and its
// file exist.
//
// The schema carries its version in SQLite's user_version; opening a store
// applies the migrations it lacks inside one transaction.
package local
