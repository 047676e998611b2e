package logs

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
)

// TestStoredLinesVersion: a store copies kept lines only to a download of
// the same format version, so the default line cannot change without a new
// storedLinesVersion, or stores would keep serving lines of the old one.
func TestStoredLinesVersion(t *testing.T) {
	golden := map[string]string{
		"combined-pacific/1": `192.0.2.7 - - [08/Mar/2026:01:30:00 -0800] "GET /a b?q=\"x\" HTTP/1.1" 200 512 "-" "ua \\ \x01 \xff" ms=3` + "\n" +
			`a\\x20b - - [08/Mar/2026:03:30:01 -0700] "POST / HTTP/2.0" 302 0 "http://r/" "-" ms=1500` + "\n",
	}
	at := time.Date(2026, 3, 8, 9, 30, 0, 0, time.UTC) // US DST starts that day
	in := []backend.RequestLog{
		{ID: "01", Time: at, IP: "192.0.2.7", Method: "GET", Resource: `/a b?q="x"`, HTTPVersion: "HTTP/1.1", Status: 200,
			Bytes: 512, UserAgent: "ua \\ \x01 \xff", Host: "h", Latency: 3 * time.Millisecond, App: "a", Service: "default", Version: "v1",
			AppLogs: []backend.AppLogLine{{Time: at, Level: backend.Critical, Message: "not in the default line"}}},
		{ID: "02", Time: at.Add(time.Hour + time.Second), IP: "a b", Method: "POST", Resource: "/", HTTPVersion: "HTTP/2.0",
			Status: 302, Referrer: "http://r/", Latency: 1500 * time.Millisecond},
	}
	render := StoredLines().New()
	var got []byte
	for i := range in {
		got = render(got, &in[i])
	}
	if want, ok := golden[storedLinesVersion]; !ok || string(got) != want {
		t.Fatalf("the default line of version %q is now\n%s\nand was\n%s\nA changed line needs a new storedLinesVersion (and its lines here).",
			storedLinesVersion, got, want)
	}
}

// TestStaleStoredLinesNotCopied: lines a store kept in another format
// version are never copied; the download formats the records instead.
func TestStaleStoredLinesNotCopied(t *testing.T) {
	store, err := local.Open(t.Context(), "", local.Config{Root: t.TempDir()}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	stale := backend.LineFormat{Version: "combined-pacific/0", New: func() func([]byte, *backend.RequestLog) []byte {
		return func(b []byte, _ *backend.RequestLog) []byte { return append(b, "stale line\n"...) }
	}}
	t0 := time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)
	var old, fresh []backend.RequestLog
	for i := range 3000 {
		l := backend.RequestLog{Time: t0.Add(time.Duration(i) * time.Second), IP: "192.0.2.1", Method: "GET",
			Resource: "/", HTTPVersion: "HTTP/1.1", Status: 200, Service: "default", Version: "v1"}
		if i < 2000 {
			old = append(old, l)
		} else {
			fresh = append(fresh, l)
		}
	}
	if err := store.WriteLogsWithLines(t.Context(), "app", old, stale); err != nil {
		t.Fatal(err)
	}
	if err := KeepLines(store).WriteLogs(t.Context(), "app", fresh); err != nil {
		t.Fatal(err)
	}
	var want []byte
	fm := newFormatter(defaultFormat())
	if err := store.ReadLogs(t.Context(), backend.LogQuery{App: "app", End: t0.Add(24 * time.Hour)}, func(l backend.RequestLog) error {
		want, _ = fm.appendLog(want, &l)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.log")
	if _, err := Download(t.Context(), store, Options{App: "app", Service: "default", Version: "v1", Output: out,
		EndDate: "2026-11-30", Format: Format{Severity: -1}}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("downloaded %d bytes, the records' lines are %d bytes; got starts\n%.200s", len(got), len(want), got)
	}
}

// storedLinesOnly hands over ready lines and lists no log.
type storedLinesOnly struct{ lines string }

func (storedLinesOnly) ReadLogs(context.Context, backend.LogQuery, func(backend.RequestLog) error) error {
	return nil
}

func (s storedLinesOnly) ReadLogLines(_ context.Context, _ backend.LogQuery, _ backend.LineFormat, fn func(io.Reader, int) error) error {
	for range 3 {
		if err := fn(strings.NewReader(s.lines), 1); err != nil {
			return err
		}
	}
	return nil
}

// TestCopyingStoredLinesAllocatesNoBlocks: a download that only copies
// ready lines formats nothing, so it makes none of the formatter's blocks
// (a process this short touches a fresh page for every 4 KiB it allocates).
func TestCopyingStoredLinesAllocatesNoBlocks(t *testing.T) {
	var before, after runtime.MemStats
	var out bytes.Buffer
	out.Grow(1024)
	runtime.ReadMemStats(&before)
	res, err := stream(t.Context(), storedLinesOnly{lines: "a line\n"}, backend.LogQuery{App: "a"}, Options{Format: defaultFormat()}, nil, &out)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 3 || out.String() != strings.Repeat("a line\n", 3) {
		t.Fatalf("copied %d requests, %q", res.Requests, out.String())
	}
	if n := after.TotalAlloc - before.TotalAlloc; n >= blockCap {
		t.Errorf("allocated %d bytes copying 21 bytes of lines, want less than a block (%d)", n, blockCap)
	}
}
