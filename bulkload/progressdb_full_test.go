package bulkload

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A full disk under the progress database is said as such: which file,
// and what to do (it was SQLite's "database or disk is full (13)"). SQLite
// reports a database that cannot grow past max_page_count with the same
// SQLITE_FULL as a full disk, which provokes it without filling one.
func TestProgressDBFullDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "progress.sql3")
	p, err := openProgress(t.Context(), path, "sig")
	if err != nil {
		t.Fatal(err)
	}
	// One connection (openBulkDB), so the recorder writes through this
	// limit.
	if _, err := p.db.ExecContext(t.Context(), `PRAGMA max_page_count = 1`); err != nil {
		t.Fatal(err)
	}
	kind := strings.Repeat("k", 4000) // a page a batch
	for i := range 1000 {
		if _, err = p.addBatch(t.Context(), kind, i*10+1, i*10+10); err != nil {
			break
		}
	}
	if cerr := p.close(); err == nil {
		err = cerr
	}
	if err == nil {
		t.Fatal("recording 1,000 batches into a database that cannot grow succeeded")
	}
	msg := err.Error()
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(msg, path+": no space left on device") ||
		!strings.Contains(msg, "run the same command again") {
		t.Errorf("want ENOSPC naming %s and what to do, got: %v", path, err)
	}
}
