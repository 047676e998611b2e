package local

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// blobFiles writes n blob files of various sizes (spread over the
// blobs/ab directories) straight into b's store, and returns their
// digests and sizes.
func blobFiles(t testing.TB, b *Backend, n int) map[string]int64 {
	t.Helper()
	held := make(map[string]int64, n)
	for i := range n {
		data := fmt.Appendf(nil, "blob %d%s", i, strings.Repeat(".", i%7))
		d := sha1hex(data)
		if err := os.MkdirAll(filepath.Dir(b.blobPath(d)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(b.blobPath(d), data, 0o600); err != nil {
			t.Fatal(err)
		}
		held[d] = int64(len(data))
	}
	return held
}

// TestLostBlobs: of an app's blobs spread over every blobs/ab directory,
// exactly those whose file was removed, truncated, grown or replaced by
// a directory are lost, on one goroutine or several; a blob Prefetch saw
// in place is trusted without a stat.
func TestLostBlobs(t *testing.T) {
	b := openAt(t, t.TempDir())
	held := blobFiles(t, b, 2000)
	ds := slices.Sorted(maps.Keys(held))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	removed, truncated, grown, dir, trusted := ds[0], ds[777], ds[1500], ds[1999], ds[1000]
	must(os.Remove(b.blobPath(removed)))
	must(os.Truncate(b.blobPath(truncated), 0))
	must(os.WriteFile(b.blobPath(grown), make([]byte, 100), 0o600))
	must(os.Remove(b.blobPath(dir)))
	must(os.Mkdir(b.blobPath(dir), 0o700))
	must(os.Remove(b.blobPath(trusted)))
	want := []string{removed, truncated, grown, dir, trusted}
	slices.Sort(want)
	for _, workers := range []int{1, statWorkers} {
		got := b.lostBlobs(t.Context(), held, nil, workers)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%d workers: lostBlobs = %v, want %v", workers, got, want)
		}
		seen := &inPlace{records: sortedRecords(map[string]int64{trusted: held[trusted], grown: held[grown]})}
		findRecord(seen.records, trusted).ok = true // grown was found lost
		got = b.lostBlobs(t.Context(), held, seen, workers)
		slices.Sort(got)
		if w := slices.DeleteFunc(slices.Clone(want), func(d string) bool { return d == trusted }); !slices.Equal(got, w) {
			t.Errorf("%d workers, %s seen in place: lostBlobs = %v, want %v", workers, trusted, got, w)
		}
	}
	if got := b.lostBlobs(t.Context(), map[string]int64{}, nil, 1); got != nil {
		t.Errorf("lostBlobs of no blobs = %v", got)
	}
}

// TestLostBlobsWithoutTheirDirectory: the blobs of a blobs/ab directory
// removed whole are lost, and all of them are when the blobs directory
// itself is gone (each is stat'ed relative to it, as ab/cdef…).
func TestLostBlobsWithoutTheirDirectory(t *testing.T) {
	b := openAt(t, t.TempDir())
	held := blobFiles(t, b, 600)
	ds := slices.Sorted(maps.Keys(held))
	gone := filepath.Dir(b.blobPath(ds[300]))
	var want []string
	for _, d := range ds {
		if filepath.Dir(b.blobPath(d)) == gone {
			want = append(want, d)
		}
	}
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, statWorkers} {
		got := b.lostBlobs(t.Context(), held, nil, workers)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%d workers, %s removed: lostBlobs = %v, want %v", workers, gone, got, want)
		}
	}
	blobs := filepath.Dir(gone)
	if err := os.Rename(blobs, blobs+".away"); err != nil {
		t.Fatal(err)
	}
	got := b.lostBlobs(t.Context(), held, nil, 1)
	slices.Sort(got)
	if !slices.Equal(got, ds) {
		t.Errorf("the blobs directory gone: %d of %d blobs lost", len(got), len(ds))
	}
}

// TestLostBlobsAllocatesPerDirectory: checking an app's blob files
// allocates a few times per blobs/ab directory, not per blob. It made a
// map of slices grown per directory and, through x/sys/unix, a C string
// per stat: 5,000 allocations and their fresh pages for a 5,000-file app,
// whose page faults are dear on this VM.
func TestLostBlobsAllocatesPerDirectory(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("diskfile.StatAt allocates as unix.Fstatat does here")
	}
	b := openAt(t, t.TempDir())
	held := blobFiles(t, b, 2000)
	dirs := map[string]bool{}
	for d := range held {
		dirs[d[:2]] = true
	}
	allocs := testing.AllocsPerRun(5, func() {
		if lost := b.lostBlobs(t.Context(), held, nil, 1); lost != nil {
			t.Fatalf("lost %v", lost)
		}
	})
	if limit := float64(2*len(dirs) + 16); allocs > limit {
		t.Errorf("lostBlobs of %d blobs in %d directories: %v allocations, want at most %v", len(held), len(dirs), allocs, limit)
	}
}

// TestAppBlobs: Prefetch reads every blob record of the app (digest and
// size), none when it holds more than the bound, and refuses a record
// whose digest is damaged (it would name no file).
func TestAppBlobs(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	want := map[string]int64{}
	for _, data := range []string{"one\n", "two two\n", "three three three\n"} {
		want[put(t, b, "app", []byte(data))] = int64(len(data))
	}
	put(t, b, "other", []byte("another app's\n"))
	if got, err := appBlobs(ctx, b.db, "app", 10); err != nil || !slices.Equal(got, sortedRecords(want)) {
		t.Errorf("appBlobs = %v, %v; want %v in digest order", got, err, want)
	}
	if got, err := appBlobs(ctx, b.db, "app", 2); err != nil || got != nil {
		t.Errorf("appBlobs of 3 records, at most 2 = %v, %v; want none", got, err)
	}
	if got, err := appBlobs(ctx, b.db, "unknown", 10); err != nil || got != nil {
		t.Errorf("appBlobs of an unknown app = %v, %v; want none", got, err)
	}
	if _, err := b.db.ExecContext(ctx, `INSERT INTO blobs (app_id, sha1, size, stored)
SELECT app_id, '../../x', 1, stored FROM blobs LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if got, err := appBlobs(ctx, b.db, "app", 10); err == nil || !strings.Contains(err.Error(), `its digest '../../x' is not 40 lowercase hex digits; run appcfg verify --repair`) {
		t.Errorf("appBlobs with a damaged record = %v, %v; want an error naming it and the repair", got, err)
	}
}

// TestAppBlobsDamagedSize: a record whose size is no number (a hand
// edit, a damaged page) is a damaged record to Prefetch's read as to every
// other (ErrDamagedRecord, naming the record and the repair), not a
// failed read of the store.
func TestAppBlobsDamagedSize(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	d := put(t, b, "app", []byte("one\n"))
	if _, err := b.db.ExecContext(ctx, `UPDATE blobs SET size = 'abc' WHERE sha1 = ?`, d); err != nil {
		t.Fatal(err)
	}
	got, err := appBlobs(ctx, b.db, "app", 10)
	if err == nil || !strings.Contains(err.Error(), "its size 'abc' is not a number of bytes; run appcfg verify --repair") ||
		!strings.Contains(err.Error(), d) || !errors.Is(err, backend.ErrDamagedRecord) {
		t.Errorf("appBlobs with a record sized 'abc' = %v, %v; want the damaged-record error naming %s and the repair", got, err, d)
	}
	if _, err := b.OpenBlob(ctx, "app", d); !errors.Is(err, backend.ErrDamagedRecord) || !strings.Contains(err.Error(), d) {
		t.Errorf("OpenBlob of a record sized 'abc': %v, want the damaged-record error naming it", err)
	}
}

// TestPrefetchSmallCache: Prefetch reads the app's records on a connection
// whose page cache is bounded (a page is fresh memory, dear on some VMs),
// and that connection goes back to the pool with the pool's cache_size,
// whether LiveAsIs, MissingBlobs or no one used the check.
func TestPrefetchSmallCache(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	d := put(t, b, "app", []byte("one\n"))
	b.db.SetMaxOpenConns(1) // one connection: the one Prefetch used
	var pool int64
	if err := b.db.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&pool); err != nil {
		t.Fatal(err)
	}
	if pool == prefetchCachePages {
		t.Fatalf("the pool's cache_size is already %d", pool)
	}
	poolCache := func(after string) {
		t.Helper()
		var got int64
		if err := b.db.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&got); err != nil || got != pool {
			t.Errorf("after %s, the pool's cache_size = %d, %v; want %d", after, got, err, pool)
		}
	}

	b.Prefetch(ctx, "app")
	tx, records, end := b.takePrefetched(ctx, "app").snapshot()
	if r := findRecord(records, d); tx == nil || r == nil || r.size != 4 || !r.ok {
		t.Fatalf("Prefetch's snapshot = %v, %v; want the app's records", tx, records)
	}
	var got int64
	if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&got); err != nil || got != prefetchCachePages {
		t.Errorf("cache_size in Prefetch's transaction = %d, %v; want %d", got, err, prefetchCachePages)
	}
	end()
	poolCache("LiveAsIs's end of the snapshot")

	b.Prefetch(ctx, "app")
	if miss, err := b.MissingBlobs(ctx, "app", []string{d}); err != nil || len(miss) != 0 {
		t.Fatalf("MissingBlobs = %v, %v; want none missing", miss, err)
	}
	poolCache("MissingBlobs")

	b.Prefetch(ctx, "app")
	b.stopPrefetch()
	poolCache("Close")
}

// TestIngestsForAsksThePrefetch: while a Prefetch holds its connection,
// IngestsFor answers from the records it read rather than from a second
// connection (whose opening reads the schema again); without a Prefetch
// it reads the store.
func TestIngestsForAsksThePrefetch(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	put(t, b, "app", []byte("one\n"))
	b.db.SetMaxOpenConns(1) // the Prefetch's: a second query would wait for it
	b.Prefetch(ctx, "app")
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if yes, err := b.IngestsFor(wait, "app"); err != nil || yes {
		t.Errorf("IngestsFor an app holding content, during a Prefetch = %v, %v; want false", yes, err)
	}
	b.takePrefetched(ctx, "app").endTx()
	if yes, err := b.IngestsFor(ctx, "app"); err != nil || yes {
		t.Errorf("IngestsFor an app holding content = %v, %v; want false", yes, err)
	}
	if yes, err := b.IngestsFor(ctx, "new"); err != nil || !yes {
		t.Errorf("IngestsFor an app holding nothing = %v, %v; want true", yes, err)
	}
}

// TestAppBlobsCopiesNoDigest: the records Prefetch reads keep the strings
// the driver made of their digests; a copy of each into an arena was
// another 40 bytes a record (200 KB of fresh pages for 5,000).
func TestAppBlobsCopiesNoDigest(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	const n = 3000
	if _, err := b.db.ExecContext(ctx, `INSERT INTO apps (name) VALUES ('app')`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ExecContext(ctx, `
WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < ?)
INSERT INTO blobs (app_id, sha1, size, stored)
SELECT (SELECT id FROM apps WHERE name = 'app'), printf('%040x', x), x, 0 FROM i`, n); err != nil {
		t.Fatal(err)
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	held, err := appBlobs(ctx, tx, "app", prefetchMax)
	runtime.ReadMemStats(&after)
	if err != nil || len(held) != n {
		t.Fatalf("appBlobs = %d records, %v; want %d", len(held), err, n)
	}
	// The driver's string (48), its boxing (16 and 8) and the slice's
	// record (32, about a map slot's size).
	if perRecord := (after.TotalAlloc - before.TotalAlloc) / n; perRecord > 135 {
		t.Errorf("appBlobs allocated %d bytes a record; want at most 135", perRecord)
	}
}

// TestPrefetchAllocatesLittlePerRecord: the check Prefetch runs of an
// app's 3,000 blobs, all in place, allocates little beyond the driver's
// strings: its records are one slice in digest order, stat'ed where they
// are. A map of them and a copy of every record laid out by directory for
// the stats were 150 bytes a record; now 112.
func TestPrefetchAllocatesLittlePerRecord(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	const n = 3000
	held := blobFiles(t, b, n)
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO apps (name) VALUES ('app')`); err != nil {
		t.Fatal(err)
	}
	for d, size := range held {
		if _, err := tx.ExecContext(ctx, `INSERT INTO blobs (app_id, sha1, size, stored)
SELECT id, ?, ?, 0 FROM apps WHERE name = 'app'`, d, size); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.Prefetch(ctx, "app")
	pre := b.takePrefetched(ctx, "app")
	runtime.ReadMemStats(&after)
	_, records, end := pre.snapshot()
	if end == nil || len(records) != n {
		t.Fatalf("Prefetch read %d records; want %d", len(records), n)
	}
	defer end()
	for _, r := range records {
		if !r.ok {
			t.Fatalf("Prefetch found %s lost; its file is in place", r.digest)
		}
	}
	if perRecord := (after.TotalAlloc - before.TotalAlloc) / n; perRecord > 115 {
		t.Errorf("Prefetch allocated %d bytes a record; want at most 115", perRecord)
	}
}

// TestRecordIndexFindsAsTheSearch: indexRecords' lookups find what a
// binary search of all the records finds, for digests held and not, at
// the ends of the prefixes, and with a damaged record (no hex prefix),
// which leaves the index unbuilt.
func TestRecordIndexFindsAsTheSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	digest := func() string {
		var b [20]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return hex.EncodeToString(b[:])
	}
	held := map[string]int64{
		strings.Repeat("0", 40): 1, strings.Repeat("f", 40): 2,
		"fff" + strings.Repeat("0", 37): 3, "000" + strings.Repeat("f", 37): 4,
	}
	for len(held) < 3000 {
		held[digest()] = int64(len(held))
	}
	asked := []string{"", "0", "ff", "zzz", strings.Repeat("0", 39) + "1", strings.Repeat("f", 39) + "e"}
	for d := range held {
		asked = append(asked, d, d[:39]+"x", d[:20])
	}
	for range 3000 {
		asked = append(asked, digest())
	}
	for _, damaged := range []bool{false, true} {
		if damaged {
			held["not a digest"] = 5
		}
		records := sortedRecords(held)
		idx := indexRecords(records)
		if (idx.at == nil) != damaged {
			t.Fatalf("damaged %v: index built %v", damaged, idx.at != nil)
		}
		for _, d := range append(asked, "not a digest") {
			if got, want := idx.find(d), findRecord(records, d); got != want {
				t.Fatalf("damaged %v: find(%q) = %v, the binary search %v", damaged, d, got, want)
			}
		}
	}
}
