package local

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/backendtest"
)

func syncTestLogs(n, from int) []backend.RequestLog {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	logs := make([]backend.RequestLog, n)
	for i := range logs {
		logs[i] = backend.RequestLog{Time: t0.Add(time.Duration(from+i) * time.Millisecond), IP: "127.0.0.1",
			Method: "GET", Resource: fmt.Sprintf("/r%d", from+i), HTTPVersion: "HTTP/1.1", Status: 200,
			Host: "h", Service: "default", Version: "v1"}
	}
	return logs
}

// A log write does not wait for the disk: it returns before any sync, and
// the background sync comes once for a run of writes, then again only at
// Close for what came after. The connection goes back to the pool set to
// sync at commit again, as every other writer expects.
func TestLogWriteSyncsInBackground(t *testing.T) {
	b := openAt(t, t.TempDir())
	b.db.SetMaxOpenConns(1) // so the check below sees the log writer's connection
	var mu sync.Mutex
	var syncs int
	b.onStep = func(step string) {
		if step == "sync request logs" {
			mu.Lock()
			syncs++
			mu.Unlock()
		}
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return syncs }
	// The timer is held back so the check below does not depend on how
	// fast twenty writes run (under -race on a loaded machine they took
	// longer than logSyncDelay); it is then fired by hand.
	b.logSync.delay = time.Hour
	for i := range 20 {
		if err := b.WriteLogsWithLines(t.Context(), "app", syncTestLogs(5, 5*i), backendtest.LineFormat("local/1", "")); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d syncs right after the writes; want them in the background", n)
	}
	var mode int
	if err := b.db.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != 2 {
		t.Errorf("after a log write the pooled connection has synchronous=%d, want 2 (FULL)", mode)
	}
	b.logSync.mu.Lock()
	pending, timer := b.logSync.pending, b.logSync.timer
	b.logSync.mu.Unlock()
	if !pending || timer == nil {
		t.Fatal("no background sync armed after the writes")
	}
	timer.Reset(0)
	deadline := time.Now().Add(10 * time.Second)
	for count() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d background syncs for one run of writes, want 1", n)
	}
	if err := b.WriteLogs(t.Context(), "app", syncTestLogs(1, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := b.closeLogSync(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Errorf("%d syncs after Close, want 2 (Close syncs what is pending)", n)
	}
}

// TestLogsOfKilledWriterReplayedOnce: a process that wrote request logs and
// was killed (SIGKILL) before any sync or Close leaves them in SQLite's
// write-ahead log and the lines file; the next open of the store has each
// of them exactly once, lines included, and so has the open after that.
func TestLogsOfKilledWriterReplayedOnce(t *testing.T) {
	dir := killedAfter(t, func(dir string) {
		b, err := Open(t.Context(), "", Config{Root: dir}, backend.Env{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := b.WriteLogsWithLines(t.Context(), "app", syncTestLogs(30, 30*i), backendtest.LineFormat("local/1", "")); err != nil {
				t.Fatal(err)
			}
		}
	})
	if st, err := os.Stat(filepath.Join(dir, dbName+"-wal")); err != nil || st.Size() == 0 {
		t.Fatalf("the killed writer left no write-ahead log to replay: %v", err)
	}
	want := syncTestLogs(300, 0)
	for round := range 2 {
		b, err := Open(t.Context(), "", Config{Root: dir}, backend.Env{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		err = b.ReadLogs(t.Context(), backend.LogQuery{App: "app", End: want[0].Time.Add(time.Hour)}, func(l backend.RequestLog) error {
			seen[l.Resource]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var lines strings.Builder
		err = b.ReadLogLines(t.Context(), backend.LogQuery{App: "app", End: want[0].Time.Add(time.Hour)}, backendtest.LineFormat("local/1", ""), func(r io.Reader, _ int) error {
			_, err := io.Copy(&lines, r)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		for _, l := range want {
			if seen[l.Resource] != 1 {
				t.Errorf("open %d: %s listed %d times, want once", round+1, l.Resource, seen[l.Resource])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("open %d: %d distinct logs, want %d", round+1, len(seen), len(want))
		}
		if n := strings.Count(lines.String(), "\n"); n != len(want) {
			t.Errorf("open %d: %d lines, want %d", round+1, n, len(want))
		}
	}
}
