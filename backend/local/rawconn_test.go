package local

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/diskfull"
	sqlite3 "modernc.org/sqlite/lib"
)

// The committer's connection binds what the driver would: integers, text,
// blobs (an empty one as an empty blob, not NULL), also past its first
// buffer, and rebinds a kept statement's every parameter on each run; its
// errors carry SQLite's code, so a full disk is recognized through them
// as through the driver's.
func TestRawConn(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	c, err := openRawConn(filepath.Join(dir, dbName))
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.exec(`CREATE TEMP TABLE t (a, b, c)`); err != nil {
		t.Fatal(err)
	}
	if err := c.exec(`INSERT INTO t VALUES (?, ?, ?)`, int64(7), "héllo", []byte{}); err != nil {
		t.Fatal(err)
	}
	if err := c.exec(`INSERT INTO t VALUES (?, ?, ?)`, int64(8), "", []byte("x")); err != nil {
		t.Fatal(err)
	}
	n, err := c.queryInt(`SELECT count(*) FROM t WHERE (a = 7 AND b = 'héllo' AND typeof(c) = 'blob' AND length(c) = 0)
		OR (a = 8 AND b = '' AND c = x'78')`)
	if err != nil || n != 2 {
		t.Fatalf("rows bound as given: %d, %v; want 2", n, err)
	}
	// Blobs past the first buffer's 64 KiB, in one statement.
	blobs := make([][]byte, 40)
	for i := range blobs {
		blobs[i] = bytes.Repeat([]byte{byte(i)}, 3000+i)
	}
	q := "INSERT INTO t (c) VALUES " + strings.TrimSuffix(strings.Repeat("(?),", len(blobs)), ",")
	if err := c.execBlobs(q, false, blobs); err != nil {
		t.Fatal(err)
	}
	for i, want := range blobs {
		got, err := c.queryInt(`SELECT count(*) FROM t WHERE c = ?`, want)
		if err != nil || got != 1 {
			t.Fatalf("blob %d stored %d times (%v), want once", i, got, err)
		}
	}
	if _, err := c.queryInt(`SELECT a FROM t WHERE a = ?`, int64(99)); !errors.Is(err, errNoRow) {
		t.Errorf("a query of no row: %v, want errNoRow", err)
	}
	if err := c.exec(`INSERT INTO t VALUES (?, ?, ?)`, int64(1)); err == nil {
		t.Error("binding 1 argument to 3 parameters succeeded")
	}
	err = c.exec(`INSERT INTO nowhere VALUES (1)`)
	var re *rawError
	if !errors.As(err, &re) || re.Code()&0xff != sqlite3.SQLITE_ERROR || !strings.Contains(err.Error(), "no such table: nowhere") {
		t.Errorf("a statement on a missing table: %v; want SQLite's error, code and message", err)
	}
	if !diskfull.Is(&rawError{code: sqlite3.SQLITE_FULL, msg: "database or disk is full"}, b.root) {
		t.Error("SQLITE_FULL from the committer's connection is not taken for a full disk")
	}
}

// Two stores on one directory (two processes, as far as SQLite can tell)
// commit entities at once: each committer's connection waits for the
// other's write lock (busy_timeout) rather than fail with "database is
// locked", and every entity is stored once.
func TestEntityCommittersShareAStore(t *testing.T) {
	dir := t.TempDir()
	stores := []*Backend{openAt(t, dir), openAt(t, dir)}
	const batches, size = 20, backend.MaxEntityBatch
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for s, b := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				ents := make([]backend.Entity, size)
				for j := range ents {
					id := int64((s*batches+i)*size + j + 1)
					ents[j] = backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "K", ID: id}}},
						Properties: map[string]backend.Value{"s": {Type: backend.IntType, Int: int64(s)}}}
				}
				if _, err := b.PutEntities(t.Context(), "app", ents); err != nil {
					errs <- fmt.Errorf("store %d, batch %d: %w", s, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := stores[0].db.QueryRowContext(t.Context(), `SELECT count(*) FROM entities`).Scan(&n); err != nil || n != len(stores)*batches*size {
		t.Fatalf("the store holds %d entities (%v), want %d", n, err, len(stores)*batches*size)
	}
}

// A committer's connection that cannot open says which file: SQLite's own
// message ("unable to open database file") names none.
func TestRawConnOpenErrorNamesFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none", dbName)
	c, err := openRawConn(missing)
	if err == nil {
		c.close()
		t.Fatalf("opening %s, which does not exist, succeeded", missing)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("opening a missing database: %v; want an error naming %s", err, missing)
	}
}
