package logs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/logs"
)

// memLogs is a LogReader over logs added while it is read; every failEvery-th
// read fails after handing over half of what it selected.
type memLogs struct {
	mu        sync.Mutex
	logs      []backend.RequestLog
	reads     int
	failEvery int
	failNext  int // reads that fail from now on, whatever failEvery says
}

// failReads makes the next n reads fail.
func (m *memLogs) failReads(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failNext = n
}

// endAfter returns a clock for Options.Now that runs with time.Now until
// fn has returned, then jumps an hour ahead: following ends at its next
// poll (its timeout passed) once the logs are all written, however slow
// the machine.
func endAfter(fn func()) (now func() time.Time, done <-chan struct{}) {
	var finished atomic.Bool
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		fn()
		finished.Store(true)
	}()
	return func() time.Time {
		if finished.Load() {
			return time.Now().Add(time.Hour)
		}
		return time.Now()
	}, ch
}

func (m *memLogs) add(l backend.RequestLog) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l.ID = fmt.Sprintf("%08d", len(m.logs))
	m.logs = append(m.logs, l)
}

func (m *memLogs) ReadLogs(ctx context.Context, q backend.LogQuery, fn func(backend.RequestLog) error) error {
	m.mu.Lock()
	m.reads++
	fail := m.failEvery > 0 && m.reads%m.failEvery == 0
	if m.failNext > 0 {
		m.failNext--
		fail = true
	}
	var sel []backend.RequestLog
	for _, l := range m.logs {
		if l.Time.Before(q.Start) || (!q.End.IsZero() && !l.Time.Before(q.End)) {
			continue
		}
		sel = append(sel, l)
	}
	m.mu.Unlock()
	sort.SliceStable(sel, func(i, j int) bool {
		if !sel[i].Time.Equal(sel[j].Time) {
			return sel[i].Time.Before(sel[j].Time)
		}
		return sel[i].ID < sel[j].ID
	})
	for i, l := range sel {
		if fail && i >= len(sel)/2 {
			return errors.New("connection reset by peer")
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if fail {
		return errors.New("connection reset by peer")
	}
	return nil
}

// writeLogs adds n logs over about d, several to a second and some equal
// but for their time, the way a busy server logs.
func writeLogs(m *memLogs, n int, d time.Duration) {
	for i := range n {
		path := fmt.Sprintf("/item/%d", i)
		if i%5 == 0 {
			path = "/same" // lines that differ only in their second
		}
		m.add(backend.RequestLog{Time: time.Now(), IP: "10.0.0.1", Method: "GET", Resource: path, HTTPVersion: "HTTP/1.1",
			Status: 200, Bytes: 10, Host: "a.example", App: "a", Service: "default", Version: "v1"})
		time.Sleep(d / time.Duration(n))
	}
}

// TestFollow: request_logs --follow prints the logs written while it runs,
// each once and in order, through polls that fail half way (reconnecting
// from the same point), to stdout and to a file, and ends at its timeout
// with everything logged by then.
func TestFollow(t *testing.T) {
	for _, output := range []string{"-", "file"} {
		t.Run(output, func(t *testing.T) {
			m := &memLogs{failEvery: 4}
			var stdout, status bytes.Buffer
			opts := logs.Options{App: "a", Service: "default", Version: "v1", Output: output, Stdout: &stdout, Status: &status,
				Follow: true, FollowTimeout: time.Minute, FollowInterval: 20 * time.Millisecond, FollowSettle: -1}
			if output == "file" {
				opts.Output = filepath.Join(t.TempDir(), "out.log")
				os.WriteFile(opts.Output, []byte("an old file, replaced\n"), 0o644)
			}
			// The poll at the timeout fails twice: it is retried.
			now, done := endAfter(func() { writeLogs(m, 120, time.Second); m.failReads(2) })
			opts.Now = now
			res, err := logs.Download(t.Context(), m, opts)
			<-done
			if err != nil {
				t.Fatalf("follow: %v\nstatus:\n%s", err, &status)
			}
			got := stdout.String()
			if output == "file" {
				b, _ := os.ReadFile(opts.Output)
				got = string(b)
			}
			// One download of everything, after the fact.
			m.failEvery = 0
			var want bytes.Buffer
			if _, err := logs.Download(t.Context(), m, logs.Options{App: "a", Service: "default", Version: "v1", Output: "-", Stdout: &want}); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(want.String(), "\n"); n != 120 {
				t.Fatalf("the full download has %d lines, want 120", n)
			}
			if got != want.String() {
				t.Errorf("followed output (%d lines) differs from one full download (%d lines):\n%s", strings.Count(got, "\n"), 120, lineDiff(got, want.String()))
			}
			if res.Requests != 120 {
				t.Errorf("Result.Requests = %d, want 120", res.Requests)
			}
			if !strings.Contains(status.String(), "trying again") || !strings.Contains(status.String(), "Copied 120 records.") {
				t.Errorf("status:\n%s", &status)
			}
			if n := strings.Count(status.String(), "trying again"); n > 3 {
				t.Errorf("%d failures reported one by one, want at most 3 and a count", n)
			}
		})
	}
}

// TestFollowStopsOnInterrupt: cancelling the context ends following
// without an error, with what was printed so far whole.
func TestFollowStopsOnInterrupt(t *testing.T) {
	m := &memLogs{}
	writeLogs(m, 3, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	_, err := logs.Download(ctx, m, logs.Options{App: "a", Version: "v1", Output: "-", Stdout: &out, Follow: true, FollowInterval: 10 * time.Millisecond, FollowSettle: -1})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second || strings.Count(out.String(), "\n") != 3 {
		t.Errorf("after %s: %q", time.Since(start), out.String())
	}
}

// A failure that retrying cannot cure ends following with the error.
func TestFollowStopsOnDenied(t *testing.T) {
	_, err := logs.Download(t.Context(), deniedLogs{}, logs.Options{App: "a", Version: "v1", Output: "-", Stdout: &bytes.Buffer{},
		Follow: true, FollowTimeout: 10 * time.Second})
	if !errors.Is(err, backend.ErrDenied) {
		t.Fatalf("err = %v, want ErrDenied at once", err)
	}
}

type deniedLogs struct{}

func (deniedLogs) ReadLogs(context.Context, backend.LogQuery, func(backend.RequestLog) error) error {
	return fmt.Errorf("403: %w", backend.ErrDenied)
}

func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, a, b)
		}
	}
	return ""
}

// TestFollowRecords: the records of --format ndjson follow the same way:
// each once, in order, through failing polls.
func TestFollowRecords(t *testing.T) {
	m := &memLogs{failEvery: 3}
	now, done := endAfter(func() { writeLogs(m, 60, 600*time.Millisecond) })
	var got []string
	res, err := logs.Records(t.Context(), m, logs.Options{App: "a", Version: "v1", Output: "-", Format: logs.Format{Severity: -1},
		Follow: true, FollowTimeout: time.Minute, FollowInterval: 15 * time.Millisecond, FollowSettle: -1, Now: now},
		func(l *backend.RequestLog) error { got = append(got, l.ID); return nil })
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 60 || res.Requests != 60 {
		t.Fatalf("%d records (Result %d), want 60: %q", len(got), res.Requests, got)
	}
	for i, id := range got {
		if id != fmt.Sprintf("%08d", i) {
			t.Fatalf("record %d is %s: duplicated or out of order: %q", i, id, got)
		}
	}
}
