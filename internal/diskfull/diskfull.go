package diskfull

import (
	"errors"
	"syscall"

	sqlite3 "modernc.org/sqlite/lib"
)

// lowSpace is the free space under which a failed SQLite I/O is taken for
// a full disk: SQLite reports a -shm it cannot grow as "disk I/O error"
// (SQLITE_IOERR_SHMSIZE, 4874), not as ENOSPC.
const lowSpace = 1 << 20

// Is reports whether err, from a write under dir, failed because dir's
// disk is full: ENOSPC, SQLITE_FULL, or an SQLite I/O error while that disk
// has less than a mebibyte free.
func Is(err error, dir string) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	// An SQLite error: the driver's *sqlite.Error, or the local store's
	// own for the connection it drives through SQLite's C API; both give
	// SQLite's result code.
	var se interface{ Code() int }
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return true
	case sqlite3.SQLITE_IOERR:
		free, known := freeBytes(dir)
		return known && free < lowSpace
	}
	return false
}
