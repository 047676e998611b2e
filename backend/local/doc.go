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
// temporary file (.tmp-…) in its final directory and checked against its
// digest and size while written. The uploads then share one commit: SyncBlobs
// (backend.BlobSyncer, which a deploy calls every few tens of megabytes and
// before it creates the version) syncs the temporary files (syncfs on Linux;
// each file elsewhere), renames them into place, syncs the directories, and
// records every blob stored since the last one in one transaction, so a
// deploy pays for a few syncs in all, not per file. A blob is confirmed (no
// longer missing) only once SyncBlobs returned. A name in blobs/ therefore never holds
// unsynced content, and a record never names a file a crash left partial:
// a crash leaves at worst a temporary file (swept by the next open once it
// is older than any lease) or an unrecorded blob file (sent again by the
// next deploy). A blob already recorded (for any app) is only verified,
// never rewritten.
//
// Request logs are the exception to commits being durable when they
// return: a log write commits with synchronous=NORMAL and appends its lines
// without an fsync, which survives a killed process (SQLite replays its
// write-ahead log on the next open), and a background sync makes it
// survive a power loss shortly after (see logSyncer). serve appends its
// logs to a spool file instead, folded into the tables off the request
// path and by every reader before it lists (logspool.go).
//
// Entities (upload_data, the datastore API) are committed by one committer
// for all writers, on a connection of its own that it drives through
// SQLite's C API rather than the database/sql driver (rawConn: a bulk load
// goes at that connection's pace), at synchronous=NORMAL with the log
// synced before a write returns (entities.go).
//
// MissingBlobs trusts a record only while the file it names is in place
// with the recorded size (a stat per blob), so a file deleted or truncated
// behind the store's back is sent again by the next deploy. Content damaged
// in place is caught by its readers (serve checks a blob's SHA-1 before
// sending it) and by Verify, whose repair forgets it so the next deploy
// sends it again. An empty or missing appcfg.db beside existing blobs is
// refused rather than re-created.
//
// CollectBlobs (after delete_version, and from `appcfg verify --gc`) removes
// the blobs no version of their app names, never while a deploy of that app
// holds an unexpired lock, and removes records and files under the write
// lock every record needs (see collect.go). docs/store.md tells users.
//
// The schema carries its version in SQLite's user_version; opening a store
// applies the migrations it lacks inside one transaction.
//
// Its files are private (see internal/privfile). On a full disk SQLite
// cannot size the shared-memory index (-shm) a WAL reader needs; the store
// is then opened with exclusive locking, which keeps that index in memory,
// so reads go on (one connection at a time, and another process cannot use
// the store meanwhile), and writes fail with a *NoSpaceError naming the
// store and what to free (entity writes at once: that connection is the
// only one the database then admits).
package local
