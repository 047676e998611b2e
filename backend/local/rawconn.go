package local

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/memory"
	sqlite3 "modernc.org/sqlite/lib"
)

// rawConn is the entity committer's connection to the store's database,
// driven through SQLite's own C API as modernc transpiled it
// (modernc.org/sqlite/lib) rather than through database/sql and the
// driver. A bulk load goes at the pace of this one connection, and the
// driver spent a third of it on each bound argument, not on SQLite's work:
// it looked the parameter's name up, allocated C memory for the blob,
// copied it, took the connection's mutex to bind it, and after the step
// took the mutex again to unbind it and freed the copy; 1,000 arguments a
// statement, 4,000 a second per million rows. Here the rows of a statement
// are copied once into one C buffer, each blob is bound where it lies
// (SQLITE_STATIC), and the connection is opened without a mutex
// (SQLITE_OPEN_NOMUTEX): the committer's connMu is what serializes its use,
// as database/sql's own locking serialized the driver's connection.
//
// It is set as every pool connection is (dsn): the same busy timeout,
// foreign keys on, transactions begun IMMEDIATE; the journal mode (WAL)
// is the database file's own. Only the few statements the committer runs
// are supported: arguments are int64, string and []byte.
type rawConn struct {
	tls   *libc.TLS
	db    uintptr
	stmts map[string]uintptr // prepared once, by their SQL
	// buf is the memory the bound strings and blobs point into, outside
	// the Go heap (as the driver's copies are: SQLite's code reads it by
	// address, which Go memory does not allow).
	mem memory.Allocator
	buf []byte
}

// openRawConn opens the store's existing database file.
func openRawConn(path string) (*rawConn, error) {
	c := &rawConn{tls: libc.NewTLS(), stmts: map[string]uintptr{}}
	if err := c.open(path); err != nil {
		c.close() //nolint:errcheck // the error that matters is err
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return c, nil
}

// open opens path on c and sets the connection up. It frees what it
// allocates on c.tls before returning, so that, on an error, c.close can
// close the TLS after it.
func (c *rawConn) open(path string) error {
	name, err := libc.CString(path)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, name)
	pdb := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	// Set even on an error (unless SQLite could not allocate it): close
	// releases it.
	c.db = libc.AtomicLoadPUintptr(pdb)
	if rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, int32(busyTimeout/time.Millisecond))
	return c.exec(`PRAGMA foreign_keys = ON`)
}

// close finalizes the statements and closes the connection.
func (c *rawConn) close() error {
	for _, s := range c.stmts {
		sqlite3.Xsqlite3_finalize(c.tls, s)
	}
	c.stmts = nil
	var err error
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.err(rc)
		}
		c.db = 0
	}
	c.buf = nil
	c.mem.Close() //nolint:errcheck // frees buf; an unmap error leaves nothing to do
	c.tls.Close()
	return err
}

// rawError is an error SQLite returned: Code is its result code, as the
// driver's errors give theirs (internal/diskfull reads it).
type rawError struct {
	code int
	msg  string
}

func (e *rawError) Error() string { return e.msg }

// Code returns SQLite's (extended) result code.
func (e *rawError) Code() int { return e.code }

func (c *rawConn) err(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		if m := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)); m != "" && m != msg {
			msg += ": " + m
		}
	}
	return &rawError{code: int(rc), msg: fmt.Sprintf("%s (%d)", msg, rc)}
}

// prepare returns the statement of query, prepared on first use and kept
// when keep is set (else the caller finalizes it).
func (c *rawConn) prepare(query string, keep bool) (uintptr, error) {
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	q, err := libc.CString(query)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, q)
	ps := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, q, int32(len(query)), ps, 0); rc != sqlite3.SQLITE_OK {
		return 0, c.err(rc)
	}
	s := libc.AtomicLoadPUintptr(ps)
	if s == 0 {
		return 0, fmt.Errorf("preparing %.40q: no statement", query)
	}
	if keep {
		c.stmts[query] = s
	}
	return s, nil
}

// bind binds args to s's parameters, in order. Strings and blobs are copied
// into buf, which they stay bound to (SQLITE_STATIC) until the next bind:
// every run of a statement binds all its parameters first, so no parameter
// is ever read through a pointer a later bind moved.
func (c *rawConn) bind(s uintptr, args []any) error {
	return bindAll(c, s, args, func(a any) int {
		switch v := a.(type) {
		case string:
			return len(v)
		case []byte:
			return len(v)
		}
		return 0
	}, func(a any, idx int32, mem []byte, off *int) (int32, error) {
		switch v := a.(type) {
		case int64:
			return sqlite3.Xsqlite3_bind_int64(c.tls, s, idx, v), nil
		case string:
			n := copy(mem[*off:], v)
			rc := sqlite3.Xsqlite3_bind_text(c.tls, s, idx, addr(mem[*off:]), int32(n), 0)
			*off += n
			return rc, nil
		case []byte:
			return c.bindBlob(s, idx, mem, off, v), nil
		}
		return 0, fmt.Errorf("binding an argument of type %T: not supported", a)
	})
}

// bindBlobs binds blobs to s's parameters, in order, as bind does: the
// rows of an entity upsert, without boxing each one in an interface.
func (c *rawConn) bindBlobs(s uintptr, blobs [][]byte) error {
	return bindAll(c, s, blobs, func(b []byte) int { return len(b) },
		func(b []byte, idx int32, mem []byte, off *int) (int32, error) {
			return c.bindBlob(s, idx, mem, off, b), nil
		})
}

// bindAll binds args to s's parameters, in order: buf is made to hold the
// size of them all, then one binds each, copying what it binds to mem at
// *off and moving *off past it.
func bindAll[T any](c *rawConn, s uintptr, args []T, size func(T) int, one func(a T, idx int32, mem []byte, off *int) (int32, error)) error {
	if want := int(sqlite3.Xsqlite3_bind_parameter_count(c.tls, s)); want != len(args) {
		return fmt.Errorf("binding %d arguments to a statement of %d parameters", len(args), want)
	}
	need := 0
	for _, a := range args {
		need += size(a)
	}
	mem, err := c.reserve(need)
	if err != nil {
		return err
	}
	off := 0
	for i, a := range args {
		rc, err := one(a, int32(i+1), mem, &off)
		if err != nil {
			return err
		}
		if rc != sqlite3.SQLITE_OK {
			return c.err(rc)
		}
	}
	return nil
}

// bindBlob copies b into mem at *off and binds it there. A nil or empty
// blob binds as an empty blob, not NULL: the pointer is into buf either way.
func (c *rawConn) bindBlob(s uintptr, idx int32, mem []byte, off *int, b []byte) int32 {
	n := copy(mem[*off:], b)
	rc := sqlite3.Xsqlite3_bind_blob(c.tls, s, idx, addr(mem[*off:]), int32(n), 0)
	*off += n
	return rc
}

// reserve makes buf hold at least need bytes (its old contents are not
// kept: nothing is bound into it between statements) and returns it.
func (c *rawConn) reserve(need int) ([]byte, error) {
	if need > len(c.buf) || c.buf == nil {
		size := max(need, 2*len(c.buf), 64<<10)
		if c.buf != nil {
			c.mem.Free(c.buf) //nolint:errcheck // an unmap error leaves nothing to do
			c.buf = nil
		}
		buf, err := c.mem.Malloc(size)
		if err != nil {
			return nil, fmt.Errorf("allocating %d bytes for SQLite's arguments: %w", size, err)
		}
		c.buf = buf
	}
	return c.buf, nil
}

// addr is the address of b's first byte, b being part of buf (outside the
// Go heap); b may be empty.
func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// run binds args to s and steps it to its end, returning the first
// column of its first row as an integer when it has one (ok).
func (c *rawConn) run(s uintptr, args []any) (first int64, ok bool, err error) {
	if err := c.bind(s, args); err != nil {
		return 0, false, err
	}
	return c.step(s)
}

// step steps the bound statement s to its end and resets it, returning the
// first column of its first row as an integer when it has one (ok).
func (c *rawConn) step(s uintptr) (first int64, ok bool, err error) {
	defer sqlite3.Xsqlite3_reset(c.tls, s)
	for {
		switch rc := sqlite3.Xsqlite3_step(c.tls, s); rc {
		case sqlite3.SQLITE_ROW:
			if !ok {
				first, ok = sqlite3.Xsqlite3_column_int64(c.tls, s, 0), true
			}
		case sqlite3.SQLITE_DONE:
			return first, ok, nil
		default:
			return 0, false, c.err(rc)
		}
	}
}

// exec runs query (kept prepared) with args.
func (c *rawConn) exec(query string, args ...any) error {
	s, err := c.prepare(query, true)
	if err != nil {
		return err
	}
	_, _, err = c.run(s, args)
	return err
}

// queryInt runs query (kept prepared) with args and returns the first
// column of its first row; errNoRow when it returned none.
func (c *rawConn) queryInt(query string, args ...any) (int64, error) {
	s, err := c.prepare(query, true)
	if err != nil {
		return 0, err
	}
	v, ok, err := c.run(s, args)
	if err == nil && !ok {
		err = errNoRow
	}
	return v, err
}

// execBlobs runs query with blobs as its arguments; the statement is kept
// prepared when keep is set, else prepared for this run alone.
func (c *rawConn) execBlobs(query string, keep bool, blobs [][]byte) error {
	s, err := c.prepare(query, keep)
	if err != nil {
		return err
	}
	if _, kept := c.stmts[query]; !kept {
		defer sqlite3.Xsqlite3_finalize(c.tls, s)
	}
	if err := c.bindBlobs(s, blobs); err != nil {
		return err
	}
	_, _, err = c.step(s)
	return err
}

// errNoRow is queryInt's error for a query that returned no row.
var errNoRow = errors.New("no row")
