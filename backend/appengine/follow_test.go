package appengine

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/logs"
)

// TestFollowLogs: request_logs --follow against Cloud Logging (the fake's
// entries:list): logs written while it follows are printed once each and
// in order, across a poll that fails past the backend's own retries.
func TestFollowLogs(t *testing.T) {
	b, f := newTestBackendOf(t, "p")
	w := fakeLogWriter{f}
	write := func(path string) {
		l := backend.RequestLog{Time: time.Now(), IP: "10.1.2.3", Method: "GET", Resource: path, HTTPVersion: "HTTP/1.1",
			Status: 200, Bytes: 5, Host: "p.appspot.com", Latency: time.Millisecond, Service: "default", Version: "v1"}
		if err := w.WriteLogs(t.Context(), "p", []backend.RequestLog{l}); err != nil {
			t.Error(err)
		}
	}
	write("/before")
	var finished atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer finished.Store(true)
		for i := range 30 {
			if i == 10 {
				// More failures than the backend's retries: the
				// poll fails and following reconnects.
				f.failNext("POST", `entries:list`, 503, 503, 503, 503, 503, 503)
			}
			write("/during/" + string(rune('a'+i%26)))
			time.Sleep(25 * time.Millisecond)
		}
	}()
	var out, status bytes.Buffer
	_, err := logs.Download(t.Context(), b, logs.Options{App: "p", Service: "default", Version: "v1", Output: "-", Stdout: &out, Status: &status,
		Follow: true, FollowTimeout: time.Minute, FollowInterval: 30 * time.Millisecond, FollowSettle: -1,
		// The timeout passes once every log is written, however slow the
		// machine.
		Now: func() time.Time {
			if finished.Load() {
				return time.Now().Add(time.Hour)
			}
			return time.Now()
		}})
	<-done
	if err != nil {
		t.Fatalf("follow: %v\n%s", err, &status)
	}
	var full bytes.Buffer
	if _, err := logs.Download(t.Context(), b, logs.Options{App: "p", Service: "default", Version: "v1", Output: "-", Stdout: &full}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(full.String(), "\n"); n != 31 {
		t.Fatalf("the full download has %d lines, want 31", n)
	}
	if out.String() != full.String() {
		t.Errorf("followed:\n%s\nwant (one full download):\n%s", &out, &full)
	}
	if !strings.Contains(status.String(), "trying again") {
		t.Errorf("no poll failed; status:\n%s", &status)
	}
}
