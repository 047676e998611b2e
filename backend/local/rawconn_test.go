package local

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

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
