package logs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/logs"
)

// onlyReadLogs hides every capability of a reader but ReadLogs, so Download
// takes its record-by-record path.
type onlyReadLogs struct{ r backend.LogReader }

func (o onlyReadLogs) ReadLogs(ctx context.Context, q backend.LogQuery, fn func(backend.RequestLog) error) error {
	return o.r.ReadLogs(ctx, q, fn)
}

// TestBlockPathMatchesRecordPath downloads the same logs through a block
// reader (and, for the default lines, a line reader copying those kept) and
// through ReadLogs alone, with every format option, and wants the same bytes.
func TestBlockPathMatchesRecordPath(t *testing.T) {
	store, err := local.Open(t.Context(), "", local.Config{Root: t.TempDir()}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, ok := backend.LogReader(store).(backend.LogBlockReader); !ok {
		t.Fatal("the local store no longer reads logs in blocks: this test would compare a path with itself")
	}
	t0 := time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)
	var in []backend.RequestLog
	for i := range 2500 {
		l := backend.RequestLog{
			Time: t0.Add(time.Duration(i%1250) * 7 * time.Millisecond), // two overlapping halves
			IP:   []string{"192.0.2.1", "2001:db8::7", "bad ip", ""}[i%4], Method: []string{"GET", "HEAD", `PO"ST`}[i%3],
			Resource: fmt.Sprintf("/p%d?q=%s", i%41, []string{"a", "é", "\x01", `"\`, "\xff"}[i%5]), HTTPVersion: "HTTP/1.1",
			Status: 200 + i%5, Bytes: int64(i * 37), Referrer: []string{"", "http://example.com/a b", `x"y`}[i%3],
			UserAgent: agents[i%len(agents)], Host: []string{"localhost:8080", "v1.localhost:8080", "example.com"}[i%3],
			Latency: time.Duration(i) * 97 * time.Microsecond, Service: "default", Version: "v1",
		}
		if i%9 == 0 {
			l.AppLogs = []backend.AppLogLine{{Time: l.Time.Add(time.Millisecond), Level: backend.Severity(i % 5), Message: "two\r\nlines \x02"}}
		}
		in = append(in, l)
	}
	for lo := 0; lo < len(in); lo += 300 {
		w := backend.LogWriter(store)
		if lo%600 == 0 { // half the batches keep lines, which the plain format copies
			w = logs.KeepLines(store)
		}
		if err := w.WriteLogs(t.Context(), "guestbook", in[lo:min(lo+300, len(in))]); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	formats := []struct {
		name  string
		vhost string
		f     logs.Format
	}{
		{"plain", "", logs.Format{Severity: -1}},
		{"severity", "", logs.Format{Severity: backend.Warning}},
		{"vhost", "", logs.Format{Severity: -1, IncludeVHost: true}},
		{"all", "", logs.Format{Severity: backend.Debug, IncludeAll: true}},
		{"filter", "v1.localhost", logs.Format{Severity: -1}},
	}
	for _, tt := range formats {
		var files [2][]byte
		for k, r := range []backend.LogReader{store, onlyReadLogs{store}} {
			out := filepath.Join(dir, fmt.Sprintf("%s-%d.log", tt.name, k))
			_, err := logs.Download(t.Context(), r, logs.Options{App: "guestbook", Service: "default", Version: "v1",
				Output: out, EndDate: "2026-11-30", VHost: tt.vhost, Format: tt.f})
			if err != nil {
				t.Fatal(err)
			}
			if files[k], err = os.ReadFile(out); err != nil {
				t.Fatal(err)
			}
		}
		if len(files[0]) == 0 {
			t.Fatalf("%s: nothing downloaded", tt.name)
		}
		if string(files[0]) != string(files[1]) {
			t.Errorf("%s: the block path wrote\n%.600s\nthe record path\n%.600s", tt.name, files[0], files[1])
		}
	}
}
