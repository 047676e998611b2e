package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/internal/progress"
)

// termScreen plays what was written to a terminal as the terminal shows
// it: "\r" goes back to the start of the line, "\x1b[K" and "\x1b[0K"
// erase to its end, "\x1b[2K" erases all of it, "\n" starts the next line,
// and other text overwrites what is under the cursor.
func termScreen(out string) []string {
	lines := [][]rune{nil}
	col := 0
	for i := 0; i < len(out); {
		cur := &lines[len(lines)-1]
		switch {
		case strings.HasPrefix(out[i:], "\x1b[K"), strings.HasPrefix(out[i:], "\x1b[0K"):
			*cur = (*cur)[:min(col, len(*cur))]
			i += strings.IndexByte(out[i:], 'K') + 1
			continue
		case strings.HasPrefix(out[i:], "\x1b[2K"):
			*cur = nil
			i += 4
			continue
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			lines = append(lines, nil)
			col = 0
		default:
			r := []rune(out[i:])[0]
			if col < len(*cur) {
				(*cur)[col] = r
			} else {
				*cur = append(*cur, r)
			}
			col++
			i += len(string(r))
			continue
		}
		i++
	}
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = string(l)
	}
	return s
}

// frames are the successive states of the bar: what was drawn between
// two carriage returns or newlines.
func frames(out string) []string {
	erase := regexp.MustCompile(`\x1b\[[0-9]*K`)
	return regexp.MustCompile(`[\r\n]+`).Split(erase.ReplaceAllString(out, ""), -1)
}

// termReporter is the reporter update uses on a terminal, writing to buf.
func termReporter(buf *bytes.Buffer) progress.Reporter {
	return newReporter(stdio{err: buf, errTTY: true}, globals{verbosity: 1}, false)
}

// sendFiles reports n files of size bytes sent as an upload does: the
// bytes as they are read, the file once the host confirmed it.
func sendFiles(rep progress.Reporter, n int, size int64) {
	for range n {
		rep.Add(0, size)
		rep.Add(1, 0)
	}
}

func TestBarEndsItsLineBeforeTheNextStatus(t *testing.T) {
	var buf bytes.Buffer
	rep := termReporter(&buf)
	rep.Phase("uploading", 2, 100)
	// The bytes are read before the host confirms the files.
	rep.Add(0, 60)
	rep.Add(0, 40)
	rep.Add(1, 0)
	rep.Add(1, 0)
	rep.Phase("", 0, 0)
	rep.Status("Creating version 1 of service default.")
	finish(rep)
	got := termScreen(buf.String())
	want := []string{"Creating version 1 of service default.", ""}
	if len(got) < 3 || !strings.HasPrefix(got[len(got)-3], "uploading") ||
		!strings.Contains(got[len(got)-3], "2/2 files 100%") || strings.Join(got[len(got)-2:], "|") != strings.Join(want, "|") {
		t.Fatalf("the terminal shows\n%s\nwant the finished bar, then the status on a line of its own", strings.Join(got, "\n"))
	}
}

func TestBarInterruptedShowsWhatWasDone(t *testing.T) {
	var buf bytes.Buffer
	rep := termReporter(&buf)
	rep.Phase("uploading", 401, 401*1000)
	sendFiles(rep, 167, 1000)
	finish(rep) // as update does when Ctrl-C stops the deploy
	got := termScreen(buf.String())
	last := got[len(got)-2]
	if !strings.Contains(last, "167/401 files  41%") || strings.Contains(last, "100%") || got[len(got)-1] != "" {
		t.Fatalf("after an interruption the terminal shows\n%s\nwant the bar at 167/401 files, 41%%, ended by a newline", strings.Join(got, "\n"))
	}
}

func TestBarPercentWaitsForTheLastFiles(t *testing.T) {
	var buf bytes.Buffer
	rep := termReporter(&buf)
	rep.Phase("uploading", 1501, 1501*1000)
	sendFiles(rep, 1490, 1000)
	// The last 11 files are read but not yet confirmed by the host.
	rep.Add(0, 11*1000)
	time.Sleep(150 * time.Millisecond) // past the redraw interval
	rep.Add(0, 0)
	out := buf.String()
	finish(rep)
	drawn := false
	for _, f := range frames(out) {
		if strings.Contains(f, "1490/1501 files") {
			drawn = true
			if !strings.Contains(f, " 99%") {
				t.Errorf("bar %q: 1490 of 1501 files done must not show 100%%", f)
			}
		}
	}
	if !drawn {
		t.Errorf("the bar was not drawn at 1490/1501 files:\n%q", out)
	}
}

func TestBarUsesIECUnits(t *testing.T) {
	var buf bytes.Buffer
	rep := termReporter(&buf)
	rep.Phase("hashing", 2, 6<<20)
	time.Sleep(20 * time.Millisecond) // a measurable rate
	rep.Add(1, 5<<20)
	rep.Add(1, 1<<20)
	finish(rep)
	got := termScreen(buf.String())
	line := got[len(got)-2]
	if !regexp.MustCompile(`6\.0/6\.0 MiB, [0-9.]+ [KMG]iB/s`).MatchString(line) {
		t.Fatalf("bar %q: want sizes and rate in IEC units, as the summaries print them", line)
	}
}

func TestBarFitsTheTerminal(t *testing.T) {
	for _, cols := range []int{120, 80, 50, 20} {
		var buf bytes.Buffer
		rep := newReporter(stdio{err: &buf, errTTY: true, errWidth: func() int { return cols }}, globals{verbosity: 1}, false)
		rep.Phase("uploading", 12345, 1<<30)
		rep.Add(6000, 1<<29)
		finish(rep)
		for _, f := range frames(buf.String()) {
			if n := len([]rune(f)); n >= cols {
				t.Errorf("%d columns: bar %q is %d wide and would wrap", cols, f, n)
			}
		}
	}
}

func TestPlainLinesSayWhenAPhaseStopped(t *testing.T) {
	var buf bytes.Buffer
	rep := newReporter(stdio{err: &buf}, globals{verbosity: 1}, false)
	rep.Phase("uploading", 401, 401*1024)
	rep.Add(167, 167*1024)
	finish(rep)
	if !regexp.MustCompile(`(?m)^uploading: stopped after 167 files, 167 KiB of 401 files, 401 KiB \(41%\) in `).MatchString(buf.String()) {
		t.Fatalf("plain progress printed\n%s\nwant it to say the phase stopped at 167 of 401 files", buf.String())
	}
}
