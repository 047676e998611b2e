package main

import (
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"

	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/progress"
	"github.com/appcfg/appcfg/internal/redact"
)

// newReporter picks how progress is shown: a bar on a terminal that can
// redraw a line, plain lines otherwise (pipes, logs, TERM=dumb), and only
// warnings with --quiet or machine-readable output.
// With --format ndjson every phase, progress step, status and warning is
// an event on stdout (eventReporter).
func newReporter(io stdio, g globals, machine bool) progress.Reporter {
	switch {
	case g.format == formatNDJSON:
		return &eventReporter{out: io.out, now: time.Now}
	case g.verbosity == 0 || machine || g.format.machine():
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
	case *eventReporter:
		r.t.unit = unit
	case *barReporter:
		r.t.unit = unit
	case *lineReporter:
		r.t.unit = unit
	}
	return r
}

// eventReporter writes --format ndjson's events: "phase" when a phase
// starts with what it announced, "progress" at most every
// progressEventEvery with what is done, "phase_end" with the totals and
// whether the phase completed, "status" and "warning" lines. Each event is
// one line (writeEvent); docs/schemas/event.json.
type eventReporter struct {
	mu   sync.Mutex
	out  io.Writer
	now  func() time.Time
	t    tally
	sent time.Time // when the last progress event was written
}

const progressEventEvery = 500 * time.Millisecond

func (e *eventReporter) Phase(name string, files, bytes int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.endPhase()
	if name == "" {
		return
	}
	e.t.begin(name, files, bytes, e.now())
	e.sent = e.now()
	e.write(event{Event: "phase", Phase: name, TotalFiles: &files, TotalBytes: &bytes, Unit: e.t.noun()})
}

func (e *eventReporter) endPhase() {
	t := &e.t
	if t.phase == "" {
		return
	}
	done, secs := t.complete(), e.now().Sub(t.start).Seconds()
	files, bytes := t.files, t.bytes
	e.write(event{Event: "phase_end", Phase: t.phase, Files: &files, Bytes: &bytes, Complete: &done, Seconds: &secs, Unit: t.noun()})
	t.phase = ""
}

func (e *eventReporter) finish() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.endPhase()
}

func (e *eventReporter) Add(files, bytes int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.t.files += files
	e.t.bytes += bytes
	if e.t.phase == "" || e.now().Sub(e.sent) < progressEventEvery {
		return
	}
	e.sent = e.now()
	f, b, tf, tb := e.t.files, e.t.bytes, e.t.totalFiles, e.t.totalBytes
	e.write(event{Event: "progress", Phase: e.t.phase, Files: &f, Bytes: &b, TotalFiles: &tf, TotalBytes: &tb, Unit: e.t.noun()})
}

func (e *eventReporter) Status(msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.write(event{Event: "status", Message: msg})
}

func (e *eventReporter) Warn(msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.write(event{Event: "warning", Message: msg})
}

func (e *eventReporter) write(ev event) {
	ev.Time = e.now().UTC().Format(time.RFC3339Nano)
	_ = writeEvent(e.out, ev)
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

// barReporter shows each phase as a progressbar/v3 bar on a terminal:
//
//	uploading 167/401 files  41% |████████████                  | (21/52 MiB, 9.8 MiB/s) [2s:3s]
//
// The library draws; this only feeds it the tally, at most every
// redrawEvery. The line is ended by a newline when the phase ends, done or
// not (an interrupted phase keeps the count it reached), and cleared for a
// status line, which gets a line of its own.
type barReporter struct {
	mu    sync.Mutex
	out   io.Writer
	now   func() time.Time
	width func() int // the terminal's columns; nil or 0 means 80
	t     tally
	bar   *progressbar.ProgressBar // the phase's bar; nil between phases
	drawn time.Time                // when the bar was last fed
}

const redrawEvery = 100 * time.Millisecond

func (b *barReporter) Phase(name string, files, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endPhase()
	if name == "" {
		return
	}
	b.t.begin(name, files, bytes, b.now())
	b.bar = b.newBar()
	b.draw()
}

// newBar makes the phase's bar: by bytes in IEC units when the phase
// announced bytes, else by its count, else a count without a total.
func (b *barReporter) newBar() *progressbar.ProgressBar {
	t := &b.t
	total := int64(-1)
	switch {
	case t.totalBytes > 0:
		total = t.totalBytes
	case t.totalFiles > 0:
		total = t.totalFiles
	}
	w := &clipWriter{w: b.out, cols: b.cols}
	// The bar gets what the line has left: the count at its widest, the
	// percent and about 36 columns of sizes, rate and time. What still does
	// not fit is cut by clipWriter.
	full := *t
	full.files = t.totalFiles
	cells := min(30, max(10, b.cols()-1-utf8.RuneCountInString(full.describe())-8-36))
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSetWidth(cells),
		progressbar.OptionSetDescription(t.describe()),
		progressbar.OptionShowBytes(t.totalBytes > 0),
		progressbar.OptionShowCount(),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		// An unknown total turns the bar into a spinner; without this it
		// redraws from a goroutine of its own, past the end of the phase.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionOnCompletion(func() { fmt.Fprint(w, "\n") }),
	)
}

// describe is the text before the bar: the phase and its count.
func (t *tally) describe() string {
	return fmt.Sprintf("%-9s %s", t.phase, t.count())
}

// value is what the bar measures: bytes when the phase announced any, else
// the count. A file's bytes are counted as they are read, before the host
// has confirmed the file, so they are held one short of the total until
// every file is confirmed: the bar reaches 100% (and ends) only then.
func (t *tally) value() int64 {
	if t.totalBytes <= 0 {
		return t.files
	}
	v := min(t.bytes, t.totalBytes)
	if v == t.totalBytes && !t.complete() {
		v--
	}
	return v
}

// draw hands the tally to the bar. Set64 and Describe each redraw the
// line; the count goes first so that no frame shows the new file count
// with old bytes, except when the bar completes: the library draws its
// last frame then and ends the line, so the description must be new by
// then.
func (b *barReporter) draw() {
	desc, v := b.t.describe(), b.t.value()
	if b.t.totalBytes+b.t.totalFiles > 0 && b.t.complete() {
		b.bar.Describe(desc)
		_ = b.bar.Set64(v)
	} else {
		_ = b.bar.Set64(v)
		b.bar.Describe(desc)
	}
	b.drawn = b.now()
}

func (b *barReporter) endPhase() {
	if b.bar == nil {
		return
	}
	b.draw()
	if !b.bar.IsFinished() {
		// Stopped part way: Exit keeps the count reached (Finish would fill
		// the bar) and ends the line.
		_ = b.bar.Exit()
	}
	b.bar = nil
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
	if b.bar != nil && b.now().Sub(b.drawn) >= redrawEvery {
		b.draw()
	}
}

func (b *barReporter) Status(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		_ = b.bar.Clear()
	}
	fmt.Fprintln(b.out, redact.String(msg))
	if b.bar != nil {
		b.draw()
	}
}

func (b *barReporter) Warn(msg string) { b.Status("warning: " + msg) }

func (b *barReporter) cols() int {
	if b.width != nil {
		if w := b.width(); w > 0 {
			return w
		}
	}
	return 80
}

// clipWriter cuts each line written to the terminal's width less one (the
// last column wraps on some terminals): a wrapped line cannot be redrawn
// in place, and the library writes its line whole however narrow the
// terminal is. Escape sequences take no column.
type clipWriter struct {
	w    io.Writer
	cols func() int
	col  int
}

var csi = lazyre.New(`^\x1b\[[0-9;]*[A-Za-z]`)

func (c *clipWriter) Write(p []byte) (int, error) {
	limit := c.cols() - 1
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		if seq := csi.Find(p[i:]); seq != nil {
			out = append(out, seq...)
			i += len(seq)
			continue
		}
		_, n := utf8.DecodeRune(p[i:])
		switch {
		case p[i] == '\r' || p[i] == '\n':
			c.col = 0
			out = append(out, p[i])
		case c.col < limit:
			c.col++
			out = append(out, p[i:i+n]...)
		}
		i += n
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func amount(unit string, files, bytes int64) string {
	s := plural(int(files), unit)
	if bytes > 0 {
		s += ", " + human.Size(bytes)
	}
	return s
}
