package local

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/backendtest"
)

// ReadLogLines hands over exactly the lines its format renders from
// ReadLogs, whichever way each chunk is read: whole from the lines file,
// record by record at a window's edge or where chunks overlap, or from the
// records when the lines file is short, the chunk predates it, or its lines
// are of another format version.
func TestReadLogLinesMatchesRecords(t *testing.T) {
	b := openAt(t, t.TempDir())
	kept := backendtest.LineFormat("local/1", "")
	t0 := time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC) // US DST starts that day
	mk := func(i int, at time.Time, version string) backend.RequestLog {
		return backend.RequestLog{
			Time: at, IP: []string{"192.0.2.1", "", "a b"}[i%3], Method: "GET",
			Resource: fmt.Sprintf("/p%d?x=%s", i%17, []string{"1", `"`, "\xff"}[i%3]), HTTPVersion: "HTTP/1.1",
			Status: 200 + i%3, Bytes: int64(i), Referrer: []string{"", "http://r/"}[i%2], UserAgent: "ua/1",
			Host: "h", Latency: time.Duration(i) * time.Millisecond, Service: "default", Version: version,
		}
	}
	write := func(logs []backend.RequestLog) {
		t.Helper()
		if err := b.WriteLogsWithLines(t.Context(), "app", logs, kept); err != nil {
			t.Fatal(err)
		}
	}
	var batch []backend.RequestLog
	for i := range 2500 { // chunks of 1000, 1000, 500, one after the other
		batch = append(batch, mk(i, t0.Add(time.Duration(i)*10*time.Millisecond), "v1"))
	}
	write(batch)
	batch = batch[:0]
	for i := range 300 { // overlaps the third chunk in time
		batch = append(batch, mk(i, t0.Add(21*time.Second+time.Duration(i)*7*time.Millisecond), "v1"))
	}
	write(batch)
	batch = batch[:0]
	for i := range 1200 { // later, and a version of its own in between
		v := "v1"
		if i%5 == 0 {
			v = "v2"
		}
		batch = append(batch, mk(i, t0.Add(time.Hour+time.Duration(i)*time.Second), v))
	}
	write(batch)

	stop := t0.Add(3 * time.Hour)
	var checkFormat func(stage string, f backend.LineFormat, wantWhole bool)
	queries := map[string]backend.LogQuery{
		"all":     {App: "app", End: stop},
		"version": {App: "app", Service: "default", Version: "v1", End: stop},
		"window":  {App: "app", Start: t0.Add(5 * time.Second), End: t0.Add(time.Hour + 10*time.Minute)},
		"after":   {App: "app", End: stop, AfterTime: t0.Add(12 * time.Second), AfterID: formatLogID(1200)},
		"none":    {App: "app", Start: stop, End: stop.Add(time.Hour)},
	}
	check := func(stage string, wantWhole bool) {
		t.Helper()
		checkFormat(stage, kept, wantWhole)
		// Lines kept in another format are never copied.
		checkFormat(stage+", another format", backendtest.LineFormat("local/2", ""), false)
	}
	checkFormat = func(stage string, f backend.LineFormat, wantWhole bool) {
		t.Helper()
		for name, q := range queries {
			render := f.New()
			var want []byte
			nWant := 0
			if err := b.ReadLogs(t.Context(), q, func(l backend.RequestLog) error {
				want = render(want, &l)
				nWant++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var got []byte
			nGot, whole := 0, 0
			err := b.ReadLogLines(t.Context(), q, f, func(r io.Reader, n int) error {
				if _, ok := r.(*io.LimitedReader); ok {
					whole++
				}
				data, err := io.ReadAll(r)
				if strings.Count(string(data), "\n") != n {
					t.Errorf("%s %s: a run of %d lines holds %d", stage, name, n, strings.Count(string(data), "\n"))
				}
				got = append(got, data...)
				nGot += n
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) || nGot != nWant {
				t.Errorf("%s %s: %d lines, want %d; differ at byte %d", stage, name, nGot, nWant, diffAt(got, want))
			}
			if name == "all" && (whole > 0) != wantWhole {
				t.Errorf("%s: %d chunks handed over whole, want some: %v", stage, whole, wantWhole)
			}
		}
	}
	check("stored lines", true)

	// A lines file cut short (a store copied without its end): the chunks
	// beyond are formatted from their records.
	var file string
	if err := b.db.QueryRow(`SELECT file FROM log_lines`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(b.root, logDir, file)
	st, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(name, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	check("short lines file", true)
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	check("no lines file", false)
	// New logs start a file of another name: the old chunks' offsets
	// must not find their bytes.
	later := make([]backend.RequestLog, 0, 1500)
	for i := range cap(later) {
		later = append(later, mk(i, t0.Add(2*time.Hour+time.Duration(i)*time.Second), "v1"))
	}
	write(later)
	var file2 string
	if err := b.db.QueryRow(`SELECT file FROM log_lines`).Scan(&file2); err != nil || file2 == file {
		t.Fatalf("after the lines file went missing, logs went to %q (%v), want a new file", file2, err)
	}
	queries["all"] = backend.LogQuery{App: "app", End: stop.Add(24 * time.Hour)}
	check("new lines file", true)
	// Chunks written before lines were kept.
	if _, err := b.db.Exec(`UPDATE log_chunks SET lines_off = NULL, lines_len = NULL`); err != nil {
		t.Fatal(err)
	}
	check("old chunks", false)
}

func diffAt(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A listing reads chunk descriptions from an index alone, whichever of
// service and version it names: from the table, each would cost the page
// its chunk's data starts on.
func TestChunkListingUsesCoveringIndex(t *testing.T) {
	b := openAt(t, t.TempDir())
	for _, c := range []struct{ service, version bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
		args := []any{"combined-pacific/1", 1} // the format wanted, the app
		if c.service {
			args = append(args, "default")
		}
		if c.version {
			args = append(args, "v1")
		}
		args = append(args, 0, 0, 1, 0, chunkPage)
		rows, err := b.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+chunkListingSQL(c.service, c.version), args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) != 1 || !strings.Contains(plan[0], "USING COVERING INDEX") {
			t.Errorf("service %t, version %t: plan %q, want one search of a covering index", c.service, c.version, plan)
		}
	}
}

// writeChunks records n chunks of perChunk logs of app each, one after the
// other in time, keeping lines in f; each log's path is pathLen long.
func writeChunks(t *testing.T, b *Backend, f backend.LineFormat, n, perChunk, pathLen int) {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	path := "/" + strings.Repeat("p", pathLen-1)
	logs := make([]backend.RequestLog, 0, perChunk)
	for c := range n {
		logs = logs[:0]
		for i := range perChunk {
			logs = append(logs, backend.RequestLog{Time: t0.Add(time.Duration(c)*time.Minute + time.Duration(i)*time.Millisecond),
				IP: "192.0.2.1", Method: "GET", Resource: path, HTTPVersion: "HTTP/1.1", Status: 200, Host: "h", Service: "default", Version: "v1"})
		}
		if err := b.WriteLogsWithLines(t.Context(), "app", logs, f); err != nil {
			t.Fatal(err)
		}
	}
}

// A download of stored lines starts copying once minSpan of them is
// listed, without waiting for the rest of the listing, and the listing
// goes on while a copy is under way: SQLite's work runs beside the kernel's
// copy instead of between copies.
func TestReadLogLinesListsDuringCopy(t *testing.T) {
	b := openAt(t, t.TempDir())
	kept := backendtest.LineFormat("local/1", "")
	const chunks, perChunk = 40, 1000
	writeChunks(t, b, kept, chunks, perChunk, 400) // about 450 KB of lines a chunk
	// The fetcher stops after the chunk that makes the listed lines
	// longer than minSpan, until the first copy begins: only a download
	// that copies what it has, rather than wait for the next chunk, goes on.
	stopAt := minSpan/(400*perChunk) + 2
	copying := make(chan struct{})
	var listed atomic.Int64
	b.onStep = func(step string) {
		if step != "log chunk fetched" {
			return
		}
		if listed.Add(1) == int64(stopAt) {
			select {
			case <-copying:
			case <-time.After(20 * time.Second):
				t.Errorf("no copy began after %d chunks, %d MiB of lines, were listed", stopAt, stopAt*400*perChunk>>20)
			}
		}
	}
	first, total := true, 0
	err := b.ReadLogLines(t.Context(), backend.LogQuery{App: "app", Service: "default", Version: "v1"}, kept, func(r io.Reader, n int) error {
		total += n
		if first {
			first = false
			close(copying)
			// During this copy, the fetcher lists on, up to fetchAhead
			// chunks ahead.
			deadline := time.Now().Add(20 * time.Second)
			for listed.Load() < chunks && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if got := listed.Load(); got < chunks {
				t.Errorf("%d of %d chunks listed during the first copy, want all", got, chunks)
			}
		}
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != chunks*perChunk {
		t.Errorf("handed over %d lines, want %d", total, chunks*perChunk)
	}
}

// The listing is read on the caller's goroutine, whose stack grew through
// SQLite's calls when the store was opened; the merge runs on a new one.
// A new goroutine's stack grows again through SQLite's calls, onto fresh
// pages (about 11 µs each to touch on the project's VM), and the first
// copy waited for that: about 40 of a download's 1,000 page faults.
func TestLogListingReadsOnCallersGoroutine(t *testing.T) {
	b := openAt(t, t.TempDir())
	kept := backendtest.LineFormat("local/1", "")
	writeChunks(t, b, kept, 3, 10, 40)
	goroutine := func() string {
		buf := make([]byte, 64)
		f := strings.Fields(string(buf[:runtime.Stack(buf, false)]))
		return f[0] + " " + f[1] // "goroutine N"
	}
	caller := goroutine()
	var elsewhere []string
	fetched := 0
	b.onStep = func(step string) {
		if step == "log chunk fetched" {
			fetched++
			if g := goroutine(); g != caller {
				elsewhere = append(elsewhere, g)
			}
		}
	}
	n := 0
	err := b.ReadLogLines(t.Context(), backend.LogQuery{App: "app", Service: "default", Version: "v1"}, kept, func(r io.Reader, c int) error {
		n += c
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 30 || fetched != 3 {
		t.Fatalf("handed over %d lines of %d chunks fetched, want 30 of 3", n, fetched)
	}
	if len(elsewhere) > 0 {
		t.Errorf("chunks listed on %v, not on the caller's %s", elsewhere, caller)
	}
}

// A panic in what a listing hands its logs to (a bug) reaches the caller's
// goroutine, as when the merge ran there, and the listing stops.
func TestLogListingPanicReachesCaller(t *testing.T) {
	b := openAt(t, t.TempDir())
	kept := backendtest.LineFormat("local/1", "")
	writeChunks(t, b, kept, 3, 10, 40)
	var got any
	func() {
		defer func() { got = recover() }()
		err := b.ReadLogs(t.Context(), backend.LogQuery{App: "app", Service: "default", Version: "v1"}, func(backend.RequestLog) error {
			panic("boom")
		})
		t.Errorf("ReadLogs returned %v, want the callback's panic", err)
	}()
	if got == nil || !strings.Contains(fmt.Sprint(got), "boom") {
		t.Fatalf("recovered %v, want the callback's panic", got)
	}
}

// A listing's connection has a small page cache while it lists, and the
// pool gets the connection back with its cache as it was. A listing reads
// each page once: with SQLite's default cache each page read took a fresh
// page of memory, up to 2,000 of them (8 MiB), a page fault each (about
// 11 µs here): 1,000 of the 4,900 faults of a million-record download
// with --include_vhost.
func TestLogListingCacheIsSmallAndGivenBack(t *testing.T) {
	b := openAt(t, t.TempDir())
	kept := backendtest.LineFormat("local/1", "")
	writeChunks(t, b, kept, 3, 10, 40)
	b.db.SetMaxOpenConns(1) // the listing's connection is the pool's one
	var before int64
	if err := b.db.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before == listingCache {
		t.Fatalf("the store's cache_size is already %d", before)
	}
	r, err := b.newLogReader(t.Context(), backend.LogQuery{App: "app", Service: "default", Version: "v1"}, kept)
	if err != nil || r == nil {
		t.Fatal(r, err)
	}
	l, err := r.prepareListing(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var during int64
	if err := l.conn.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&during); err != nil {
		t.Fatal(err)
	}
	l.close(t.Context())
	var after int64
	if err := b.db.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if during != listingCache || after != before {
		t.Errorf("cache_size %d during the listing and %d after, want %d and %d", during, after, listingCache, before)
	}
	// And a whole listing, records path included, needs no second
	// connection: with one, it would wait for it forever.
	n := 0
	if err := b.ReadLogs(t.Context(), backend.LogQuery{App: "app", Service: "default", Version: "v1"}, func(backend.RequestLog) error { n++; return nil }); err != nil || n != 30 {
		t.Fatalf("listed %d logs (%v), want 30", n, err)
	}
}

// Listing chunk descriptions allocates little per chunk: in a process as
// short as a download, each 4 KiB allocated is a fresh page, which costs
// about 11 µs to touch on the project's VM. (The driver still boxes each
// column it reads; the rest was the reader's own.)
func TestLogListingAllocations(t *testing.T) {
	b := openAt(t, t.TempDir())
	kept := backendtest.LineFormat("local/1", "")
	const chunks = 300
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	logs := make([]backend.RequestLog, chunks)
	for i := range logs { // two hours apart: a chunk each
		logs[i] = backend.RequestLog{Time: t0.Add(time.Duration(i) * 2 * time.Hour), IP: "192.0.2.1", Method: "GET",
			Resource: "/", HTTPVersion: "HTTP/1.1", Status: 200, Host: "h", Service: "default", Version: "v1"}
	}
	if err := b.WriteLogsWithLines(t.Context(), "app", logs, kept); err != nil {
		t.Fatal(err)
	}
	q := backend.LogQuery{App: "app", Service: "default", Version: "v1"}
	n := 0
	allocs := testing.AllocsPerRun(3, func() {
		n = 0
		if err := b.ReadLogLines(t.Context(), q, kept, func(r io.Reader, c int) error { n += c; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if n != chunks {
		t.Fatalf("handed over %d lines, want %d", n, chunks)
	}
	if per := allocs / chunks; per > 10 {
		t.Errorf("%.1f allocations a chunk listed, want at most 10 (18 before the listing scanned into reused variables)", per)
	}
}

// meta reads a listing's row as the driver hands it over: the lines are
// copied only when all four lines columns are there and the file is a
// plain name in the logs directory, the service and version come from the
// row only where the query does not fix them, and a value of a type the
// schema does not give is an error, not a zero.
func TestChunkListingMeta(t *testing.T) {
	row := func(file any, service, version any) chunkListing {
		l := chunkListing{}
		l.vals = [listingCols]any{int64(7), int64(100), int64(200), int64(1000), file, int64(4096), int64(512), int64(1), service, version}
		return l
	}
	l := row("1-ab.lines", "default", "v1")
	m, err := l.meta()
	if err != nil || !m.hasLines || !m.wantedFormat || m.id != 7 || m.minTime != 100 || m.maxTime != 200 || m.count != 1000 ||
		m.linesFile != "1-ab.lines" || m.linesOff != 4096 || m.linesLen != 512 || m.service != "default" || m.version != "v1" {
		t.Errorf("meta = %+v, %v", m, err)
	}
	// Fixed by the query: the row holds neither.
	l = row([]byte("1-ab.lines"), nil, nil)
	l.row.service, l.row.version, l.fixedService, l.fixedVersion = "s", "v", true, true
	if m, err := l.meta(); err != nil || m.service != "s" || m.version != "v" || !m.hasLines || m.linesFile != "1-ab.lines" {
		t.Errorf("fixed service and version: meta = %+v, %v", m, err)
	}
	// The version fixed, the service not: the service is the row's ninth.
	l = row("1-ab.lines", "api", nil)
	l.row.version, l.fixedVersion = "v", true
	if m, err := l.meta(); err != nil || m.service != "api" || m.version != "v" {
		t.Errorf("fixed version: meta = %+v, %v", m, err)
	}
	for _, file := range []any{nil, "../1-ab.lines", "sub/1-ab.lines", ".", "..", int64(3)} {
		l := row(file, "default", "v1")
		if m, err := l.meta(); err != nil || m.hasLines {
			t.Errorf("lines file %#v: meta = %+v, %v; want the records path", file, m, err)
		}
	}
	l = row("1-ab.lines", "default", "v1")
	l.vals[7] = nil // no lines_format: not kept in any format
	if m, err := l.meta(); err != nil || m.hasLines {
		t.Errorf("no lines format: meta = %+v, %v; want the records path", m, err)
	}
	l.vals[7] = int64(0) // another format than the one wanted
	if m, err := l.meta(); err != nil || !m.hasLines || m.wantedFormat {
		t.Errorf("another lines format: meta = %+v, %v", m, err)
	}
	for i, bad := range []any{nil, "7", 7.5} {
		l := row("1-ab.lines", "default", "v1")
		l.vals[i] = bad
		if _, err := l.meta(); err == nil {
			t.Errorf("column %d holding %#v: no error", i, bad)
		}
	}
	l = row("1-ab.lines", int64(1), "v1")
	if _, err := l.meta(); err == nil {
		t.Errorf("a service of type int64: no error")
	}
	// The error names the column of the wrong type, wherever the row
	// holds it.
	l = row("1-ab.lines", int64(1), nil)
	l.row.version, l.fixedVersion = "v", true
	if _, err := l.meta(); err == nil || !strings.Contains(err.Error(), "int64 where its service belongs") {
		t.Errorf("a service of type int64, the version fixed: %v", err)
	}
	l = row("1-ab.lines", int64(1), nil)
	l.row.service, l.fixedService = "s", true
	if _, err := l.meta(); err == nil || !strings.Contains(err.Error(), "int64 where its version belongs") {
		t.Errorf("a version of type int64, the service fixed: %v", err)
	}
}
