package logs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

func TestFormatLine(t *testing.T) {
	at := time.Date(2026, 7, 4, 19, 5, 6, 789_000_000, time.UTC) // 12:05:06 PDT
	l := backend.RequestLog{
		ID: "000000000000002a", Time: at, IP: "2001:db8::1", Method: "GET", Resource: "/a b?q=\"x\"",
		HTTPVersion: "HTTP/1.1", Status: 404, Bytes: 12, UserAgent: "ua \\ \x01 \xff ü", Host: "v1-dot-default.localhost",
		Latency: 1500 * time.Microsecond, App: "guestbook", Service: "default", Version: "v1",
		AppLogs: []backend.AppLogLine{
			{Time: at.Add(time.Millisecond), Level: backend.Debug, Message: "hidden"},
			{Time: at.Add(2 * time.Millisecond), Level: backend.Warning, Message: "first\nsecond"},
		},
	}
	tests := []struct {
		name string
		f    Format
		want string
	}{
		{"combined", Format{Severity: -1},
			`2001:db8::1 - - [04/Jul/2026:12:05:06 -0700] "GET /a b?q=\"x\" HTTP/1.1" 404 12 "-" "ua \\ \x01 \xff ü" ms=1` + "\n"},
		{"vhost and warnings", Format{IncludeVHost: true, Severity: backend.Info},
			`2001:db8::1 - - [04/Jul/2026:12:05:06 -0700] "GET /a b?q=\"x\" HTTP/1.1" 404 12 "-" "ua \\ \x01 \xff ü" "v1-dot-default.localhost" ms=1` + "\n" +
				"\t2:1783191906.791000 first\n\tsecond\n"},
		{"all", Format{IncludeAll: true, Severity: -1},
			`2001:db8::1 - - [04/Jul/2026:12:05:06 -0700] "GET /a b?q=\"x\" HTTP/1.1" 404 12 "-" "ua \\ \x01 \xff ü" "v1-dot-default.localhost" ms=1 app=guestbook module=default version=v1 request_id=000000000000002a` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Location = Pacific()
			got, n := newFormatter(tt.f).appendLog(nil, &l)
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if want := strings.Count(tt.want, "\n"); n != want {
				t.Errorf("%d lines counted, want %d", n, want)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	pac := Pacific()
	now := time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC) // 8 March 23:00 PDT
	tests := []struct {
		end        string
		days       int
		start, fin string
	}{
		{"", 1, "2026-03-08T00:00:00-08:00", "2026-03-09T00:00:00-07:00"},
		{"", 2, "2026-03-07T00:00:00-08:00", "2026-03-09T00:00:00-07:00"},
		{"2026-11-01", 1, "2026-11-01T00:00:00-07:00", "2026-11-02T00:00:00-08:00"},
		{"2026-11-01", 0, "0001-01-01T00:00:00Z", "2026-11-02T00:00:00-08:00"},
	}
	for _, tt := range tests {
		s, e, err := Window(now, pac, tt.end, tt.days)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Format(time.RFC3339); got != tt.start {
			t.Errorf("Window(%q, %d) start %s, want %s", tt.end, tt.days, got, tt.start)
		}
		if got := e.Format(time.RFC3339); got != tt.fin {
			t.Errorf("Window(%q, %d) end %s, want %s", tt.end, tt.days, got, tt.fin)
		}
	}
	if _, _, err := Window(now, pac, "2026-3-1x", 1); err != ErrBadEndDate {
		t.Errorf("a bad end date gave %v", err)
	}
}

func TestFindResume(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 3*tailBlock) // lines longer than a block
	tests := []struct {
		name, content string
		want          *resumePoint
		why           string
	}{
		{"empty", "", nil, ""},
		{"no date", "garbage\n", nil, "can't find sentinel"},
		{"app lines after", `a - - [01/Nov/2026:10:00:00 -0700] "GET /1 HTTP/1.1" 200 1 "-" "-" ms=1` + "\n" +
			`b - - [01/Nov/2026:10:00:01 -0700] "GET /2 HTTP/1.1" 200 1 "-" "` + long + `" ms=1` + "\n" +
			`c - - [01/Nov/2026:10:00:01 -0700] "GET /3 HTTP/1.1" 200 1 "-" "-" ms=1` + "\n\t1:1.000000 note\n",
			&resumePoint{sentinel: `c - - [01/Nov/2026:10:00:01 -0700] "GET /3 HTTP/1.1" 200 1 "-" "-" ms=1`,
				stamp: "[01/Nov/2026:10:00:01 -0700]", sec: time.Date(2026, 11, 1, 17, 0, 1, 0, time.UTC).Unix(), count: 2}, ""},
		{"no final newline", `c - - [01/Nov/2026:10:00:01 -0700] "GET /3 HTTP/1.1" 200 1 "-" "-" ms=1`,
			&resumePoint{sentinel: `c - - [01/Nov/2026:10:00:01 -0700] "GET /3 HTTP/1.1" 200 1 "-" "-" ms=1`,
				stamp: "[01/Nov/2026:10:00:01 -0700]", sec: time.Date(2026, 11, 1, 17, 0, 1, 0, time.UTC).Unix(), count: 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, why := findResume(p)
			if !strings.Contains(why, tt.why) || (tt.why == "" && why != "") {
				t.Errorf("why %q, want %q", why, tt.why)
			}
			switch {
			case got == nil && tt.want == nil:
			case got == nil || tt.want == nil || *got != *tt.want:
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, why := findResume(filepath.Join(dir, "absent")); !strings.Contains(why, "Append mode disabled: can't read") {
		t.Errorf("a missing file: %q", why)
	}
}
