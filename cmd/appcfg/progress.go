package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/progress"

	"github.com/appcfg/appcfg/internal/redact"
)

// newReporter picks how progress is shown: a bar on a terminal that can
// redraw a line, plain lines otherwise (pipes, logs, TERM=dumb), and only
// warnings with --quiet or machine-readable output.
func newReporter(io stdio, g globals, machine bool) progress.Reporter {
	switch {
	case g.verbosity == 0 || machine:
		return &quietReporter{out: io.err}
	case io.errTTY:
		return &barReporter{out: io.err, now: time.Now, width: io.errWidth}
	}
	return &lineReporter{out: io.err, now: time.Now}
}

// finish ends the last phase of a reporter made by newReporter.
func finish(r progress.Reporter) {
	if f, ok := r.(interface{ finish() }); ok {
		f.finish()
	}
}

type quietReporter struct {
	progress.Nop
	mu  sync.Mutex
	out io.Writer
}

func (q *quietReporter) Warn(msg string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	fmt.Fprintln(q.out, "warning: "+redact.String(msg))
}

// tally is what a phase has to do and what of it is done. It is shared by
// the bar and the plain lines, so both say the same thing.
type tally struct {
	unit              string // what is counted: "file" when ""
	phase             string
	start             time.Time
	files, totalFiles int64
	bytes, totalBytes int64
}

func (t *tally) begin(name string, files, bytes int64, now time.Time) {
	*t = tally{unit: t.unit, phase: name, start: now, totalFiles: files, totalBytes: bytes}
}

// complete reports whether everything the phase announced is done.
func (t *tally) complete() bool {
	return t.files >= t.totalFiles && t.bytes >= t.totalBytes
}

// percent is how far the phase is, by bytes when it announced any, else by
// files; -1 when it announced neither. A file's bytes are counted as they
// are read, before the host has confirmed the file, so 100% waits for the
// last file: the bytes of files still in flight show at most 99%.
func (t *tally) percent() int {
	switch {
	case t.totalBytes > 0:
		p := int(float64(min(t.bytes, t.totalBytes)) * 100 / float64(t.totalBytes))
		if p == 100 && t.files < t.totalFiles {
			p = 99
		}
		return p
	case t.totalFiles > 0:
		return int(min(t.files, t.totalFiles) * 100 / t.totalFiles)
	}
	return -1
}

// count is "167/401 files", or "167 files" when the total is unknown.
func (t *tally) count() string {
	if t.totalFiles > 0 {
		return fmt.Sprintf("%d/%d %ss", t.files, t.totalFiles, t.noun())
	}
	return plural(int(t.files), t.noun())
}

func (t *tally) noun() string {
	if t.unit == "" {
		return "file"
	}
	return t.unit
}

// counting makes a reporter from newReporter count unit ("entity") instead
// of files: what a bulk load's bar counts is stored entities.
func counting(r progress.Reporter, unit string) progress.Reporter {
	switch r := r.(type) {
	case *barReporter:
		r.t.unit = unit
	case *lineReporter:
		r.t.unit = unit
	}
	return r
}

// lineReporter prints a line when a phase starts and one when it ends, for
// logs and CI where a redrawn bar would be noise.
type lineReporter struct {
	mu  sync.Mutex
	out io.Writer
	now func() time.Time
	t   tally
}

func (l *lineReporter) Phase(name string, files, bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endPhase()
	if name == "" {
		return
	}
	l.t.begin(name, files, bytes, l.now())
	fmt.Fprintf(l.out, "%s: %s\n", name, amount(l.t.noun(), files, bytes))
}

// endPhase says how the phase ended: done, or stopped part way (an
// interrupted deploy), with what was done of what.
func (l *lineReporter) endPhase() {
	t := &l.t
	if t.phase == "" {
		return
	}
	took := l.now().Sub(t.start).Round(time.Millisecond)
	if t.complete() {
		fmt.Fprintf(l.out, "%s: done, %s in %s\n", t.phase, amount(t.noun(), t.files, t.bytes), took)
	} else {
		fmt.Fprintf(l.out, "%s: stopped after %s of %s (%d%%) in %s\n", t.phase,
			amount(t.noun(), t.files, t.bytes), amount(t.noun(), t.totalFiles, t.totalBytes), max(t.percent(), 0), took)
	}
	t.phase = ""
}

func (l *lineReporter) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endPhase()
}

func (l *lineReporter) Add(files, bytes int64) {
	l.mu.Lock()
	l.t.files += files
	l.t.bytes += bytes
	l.mu.Unlock()
}

func (l *lineReporter) Status(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.out, redact.String(msg))
}

func (l *lineReporter) Warn(msg string) { l.Status("warning: " + msg) }

// barReporter redraws one line per phase on a terminal:
//
//	uploading  167/401 files  41% |████████████                  | 21 MiB/52 MiB  9.8 MiB/s  eta 3s
//
// The line is redrawn at most every redrawEvery, ended by a newline when
// the phase ends (done or not: an interrupted phase keeps what it showed),
// and cleared for a status line, which gets a line of its own.
type barReporter struct {
	mu    sync.Mutex
	out   io.Writer
	now   func() time.Time
	width func() int // the terminal's columns; nil or 0 means 80
	t     tally
	drawn time.Time // when the line was last drawn
	shown bool      // the bar is on the screen's current line, not ended
}

const (
	redrawEvery = 100 * time.Millisecond
	barCells    = 30
)

func (b *barReporter) Phase(name string, files, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endPhase()
	if name == "" {
		return
	}
	b.t.begin(name, files, bytes, b.now())
	b.draw(false)
}

func (b *barReporter) endPhase() {
	if b.t.phase == "" {
		return
	}
	b.draw(true)
	fmt.Fprint(b.out, "\n")
	b.shown = false
	b.t.phase = ""
}

func (b *barReporter) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endPhase()
}

func (b *barReporter) Add(files, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.files += files
	b.t.bytes += bytes
	if b.t.phase != "" && b.now().Sub(b.drawn) >= redrawEvery {
		b.draw(false)
	}
}

func (b *barReporter) Status(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shown {
		fmt.Fprint(b.out, "\r\x1b[K")
		b.shown = false
	}
	fmt.Fprintln(b.out, redact.String(msg))
	if b.t.phase != "" {
		b.draw(false)
	}
}

func (b *barReporter) Warn(msg string) { b.Status("warning: " + msg) }

// draw writes the bar over the current line; final draws the phase's end.
func (b *barReporter) draw(final bool) {
	now := b.now()
	fmt.Fprint(b.out, "\r"+b.line(now, final)+"\x1b[K")
	b.drawn, b.shown = now, true
}

// line is the bar's text, fitted to the terminal's width so it never wraps
// (a wrapped line cannot be redrawn in place): the bar shrinks first, then
// the rate and time go.
func (b *barReporter) line(now time.Time, final bool) string {
	t := &b.t
	cols := 80
	if b.width != nil {
		if w := b.width(); w > 0 {
			cols = w
		}
	}
	cols-- // the last column would wrap on some terminals
	head := fmt.Sprintf("%-10s %s", t.phase, t.count())
	pct := t.percent()
	if pct < 0 {
		// Nothing to measure against: counts only.
		if t.bytes > 0 {
			head += ", " + human.Size(t.bytes)
		}
		return fit(head+"  "+timing(t, now, final), cols)
	}
	head += fmt.Sprintf(" %3d%%", pct)
	tail := ""
	if t.totalBytes > 0 {
		tail = human.Size(min(t.bytes, t.totalBytes)) + "/" + human.Size(t.totalBytes)
	}
	rest := timing(t, now, final)
	if tail != "" {
		rest = tail + "  " + rest
	}
	cells := min(barCells, cols-utf8.RuneCountInString(head)-utf8.RuneCountInString(rest)-4)
	if cells < 10 {
		cells = min(barCells, cols-utf8.RuneCountInString(head)-3)
		rest = ""
	}
	if cells < 10 {
		return fit(head, cols)
	}
	full := cells * pct / 100
	bar := " |" + strings.Repeat("█", full) + strings.Repeat(" ", cells-full) + "|"
	if rest != "" {
		bar += " " + rest
	}
	return fit(head+bar, cols)
}

// timing is the transfer rate and the time left, or at the end the time
// taken.
func timing(t *tally, now time.Time, final bool) string {
	took := now.Sub(t.start)
	var parts []string
	if secs := took.Seconds(); secs > 0 && t.bytes > 0 {
		rate := float64(t.bytes) / secs
		parts = append(parts, human.Size(int64(rate))+"/s")
		if !final && t.totalBytes > t.bytes && took >= time.Second {
			left := time.Duration(float64(t.totalBytes-t.bytes) / rate * float64(time.Second))
			if left >= time.Second {
				parts = append(parts, "eta "+left.Round(time.Second).String())
			}
		}
	}
	if final {
		parts = append(parts, "in "+took.Round(100*time.Millisecond).String())
	}
	return strings.Join(parts, "  ")
}

// fit cuts s to at most cols characters.
func fit(s string, cols int) string {
	if utf8.RuneCountInString(s) <= cols || cols <= 0 {
		return s
	}
	r := []rune(s)
	return string(r[:cols])
}

func amount(unit string, files, bytes int64) string {
	s := plural(int(files), unit)
	if bytes > 0 {
		s += ", " + human.Size(bytes)
	}
	return s
}
