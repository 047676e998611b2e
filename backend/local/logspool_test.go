package local

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/backendtest"
)

// spoolLogs is n logs of app "app" from number from on.
func spoolLogs(n, from int) []backend.RequestLog {
	logs := syncTestLogs(n, from)
	for i := range logs {
		logs[i].App = "app"
	}
	return logs
}

// listed counts the logs of app "app" a reader of dir lists, by resource.
func listed(t *testing.T, b *Backend) map[string]int {
	t.Helper()
	seen := map[string]int{}
	q := backend.LogQuery{App: "app", End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := b.ReadLogs(t.Context(), q, func(l backend.RequestLog) error {
		seen[l.Resource]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return seen
}

// wantOnce checks that seen lists each of want exactly once.
func wantOnce(t *testing.T, seen map[string]int, want []backend.RequestLog) {
	t.Helper()
	for _, l := range want {
		if seen[l.Resource] != 1 {
			t.Errorf("%s listed %d times, want once", l.Resource, seen[l.Resource])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d distinct logs listed, want %d", len(seen), len(want))
	}
}

func spools(t *testing.T, root string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(root, logDir, spoolDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// A process killed (SIGKILL) after spooling logs, before folding any, left
// them on record: the next reader lists each once, with its line, and
// removes the spool; a torn record at the spool's end (a write cut short)
// is passed over.
func TestSpoolOfKilledServerFoldedOnce(t *testing.T) {
	dir := killedAfter(t, func(dir string) {
		b, err := Open(t.Context(), "", Config{Root: dir}, backend.Env{})
		if err != nil {
			t.Fatal(err)
		}
		sp, err := b.OpenLogSpool(t.Context(), "app", backendtest.LineFormat("local/1", ""))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			if err := sp.Append(spoolLogs(10, 10*i)); err != nil {
				t.Fatal(err)
			}
		}
		// The start of one more record: what a write cut short leaves.
		torn, _ := appendSpoolRecord(nil, &spoolLogs(1, 999)[0])
		if _, err := sp.(*logSpool).cur.Write(torn[:len(torn)/2]); err != nil {
			t.Fatal(err)
		}
	})
	if len(spools(t, dir)) != 1 {
		t.Fatalf("the killed spooler left spools %v, want one", spools(t, dir))
	}
	for round := range 2 {
		b := openAt(t, dir)
		wantOnce(t, listed(t, b), spoolLogs(300, 0))
		if left := spools(t, dir); len(left) != 0 {
			t.Errorf("open %d: spools %v left after the fold", round+1, left)
		}
	}
}

// A reader lists what a live server spooled and did not fold yet; the
// server's folds afterwards write nothing twice. Two spools (two serve
// processes) on one store append at once without mixing their records.
func TestLiveSpoolsListedOnceEach(t *testing.T) {
	dir := t.TempDir()
	a, b := openAt(t, dir), openAt(t, dir)
	spA, err := a.OpenLogSpool(t.Context(), "app", backend.LineFormat{})
	if err != nil {
		t.Fatal(err)
	}
	spB, err := b.OpenLogSpool(t.Context(), "app", backend.LineFormat{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for k, sp := range []backend.LogSpool{spA, spB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				if err := sp.Append(spoolLogs(1, k*1000+i)); err != nil {
					t.Error(err)
				}
				if i%25 == 0 {
					if _, err := sp.Fold(t.Context()); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	want := append(spoolLogs(100, 0), spoolLogs(100, 1000)...)
	reader := openAt(t, dir)
	wantOnce(t, listed(t, reader), want)
	if len(spools(t, dir)) != 2 {
		t.Errorf("spools %v, want the two live ones kept", spools(t, dir))
	}
	for _, sp := range []backend.LogSpool{spA, spB} {
		if _, err := sp.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	wantOnce(t, listed(t, reader), want)
	if left := spools(t, dir); len(left) != 0 {
		t.Errorf("spools %v left after both closed", left)
	}
}

// A spool stays small: once past its rotation size a fold starts a new
// file and removes the old one; and while folds fail (here: none runs),
// appends stop past the bound instead of growing the file without end.
func TestSpoolSizeBounded(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	sp, err := b.OpenLogSpool(t.Context(), "app", backend.LineFormat{})
	if err != nil {
		t.Fatal(err)
	}
	s := sp.(*logSpool)
	s.rotate, s.max = 4<<10, 16<<10
	var appended []backend.RequestLog
	for i := range 200 {
		l := spoolLogs(1, i)
		if err := sp.Append(l); err != nil {
			t.Fatal(err)
		}
		appended = append(appended, l...)
		if i%10 == 9 {
			if _, err := sp.Fold(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range spools(t, dir) {
		if fi, err := os.Stat(name); err != nil || fi.Size() > s.rotate+1<<10 {
			t.Errorf("spool %s: %v, size over the rotation's %d", name, err, s.rotate)
		}
	}
	if n := len(spools(t, dir)); n != 1 {
		t.Errorf("%d spool files, want the one in use", n)
	}
	var refused error
	for i := range 1000 {
		l := spoolLogs(1, 200+i)
		if refused = sp.Append(l); refused != nil {
			break
		}
		appended = append(appended, l...)
	}
	if refused == nil {
		t.Fatalf("1000 appends without a fold were all taken, want a refusal past %d bytes", s.max)
	}
	fi, err := os.Stat(s.cur.Name())
	if err != nil || fi.Size() > s.max+1<<10 {
		t.Errorf("spool: %v, size past the bound %d", err, s.max)
	}
	if _, err := sp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantOnce(t, listed(t, b), appended)
}

// decodeSpool stops at a damaged record rather than misreading it.
func TestDecodeSpoolStopsAtDamage(t *testing.T) {
	var data []byte
	for i := range 3 {
		data, _ = appendSpoolRecord(data, &spoolLogs(1, i)[0])
	}
	whole := len(data)
	data, _ = appendSpoolRecord(data, &spoolLogs(1, 3)[0])
	data[len(data)-2] ^= 0xff
	logs, used := decodeSpool(data)
	if len(logs) != 3 || used != whole {
		t.Fatalf("decoded %d logs, %d bytes; want 3 and %d", len(logs), used, whole)
	}
	if logs, used := decodeSpool(data[:whole-1]); len(logs) != 2 || used >= whole {
		t.Fatalf("a record cut short: decoded %d logs, %d bytes", len(logs), used)
	}
}

// A reader of a store whose live server folded its spool to the end takes
// no write lock for it and has nothing to sync when it closes: an empty
// spool costs a download nothing. What a live server spooled and did not
// fold yet is still folded and listed (TestLiveSpoolsListedOnceEach).
func TestFoldedLiveSpoolCostsReadersNothing(t *testing.T) {
	dir := t.TempDir()
	server := openAt(t, dir)
	sp, err := server.OpenLogSpool(t.Context(), "app", backend.LineFormat{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close(t.Context()) }) //nolint:errcheck // checked by the other spool tests
	if err := sp.Append(spoolLogs(20, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Fold(t.Context()); err != nil {
		t.Fatal(err)
	}
	reader, err := Open(t.Context(), "", Config{Root: dir}, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	reader.onStep = func(step string) {
		if step != "log chunk fetched" {
			steps = append(steps, step)
		}
	}
	wantOnce(t, listed(t, reader), spoolLogs(20, 0))
	if err := reader.Close(); err != nil {
		t.Fatal(err)
	}
	if len(steps) != 0 {
		t.Errorf("reading beside a folded live spool took steps %q, want none (no write, no sync)", steps)
	}
	if len(spools(t, dir)) != 1 {
		t.Errorf("spools %v, want the live one kept", spools(t, dir))
	}
}
