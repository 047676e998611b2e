// Package diskfull tells a write that failed because its disk is full from
// other failures, for the files appcfg keeps in SQLite (the local store's
// database, the bulk loader's progress and result databases): SQLite
// reports a full disk as SQLITE_FULL, or, when it cannot grow its -shm,
// as a plain I/O error, so the free space has to be asked too.
package diskfull
