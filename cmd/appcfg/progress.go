package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/schollz/progressbar/v3"

	"github.com/appcfg/appcfg/internal/progress"
)

// newReporter picks how progress is shown: a bar on a terminal, plain lines
// otherwise, and only warnings with --quiet or machine-readable output.
func newReporter(io stdio, g globals, machine bool) progress.Reporter {
	switch {
	case g.verbosity == 0 || machine:
		return &quietReporter{out: io.err}
	case io.errTTY:
		return &barReporter{out: io.err}
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
	fmt.Fprintln(q.out, "warning: "+msg)
}

// lineReporter prints a line when a phase starts and one when it ends, for
// logs and CI where a redrawn bar would be noise.
type lineReporter struct {
	mu           sync.Mutex
	out          io.Writer
	now          func() time.Time
	phase        string
	start        time.Time
	files, bytes int64
}

func (l *lineReporter) Phase(name string, files, bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endPhase()
	if name == "" {
		return
	}
	l.phase, l.start, l.files, l.bytes = name, l.now(), 0, 0
	fmt.Fprintf(l.out, "%s: %s\n", name, amount(files, bytes))
}

func (l *lineReporter) endPhase() {
	if l.phase == "" {
		return
	}
	fmt.Fprintf(l.out, "%s: done, %s in %s\n", l.phase, amount(l.files, l.bytes), l.now().Sub(l.start).Round(time.Millisecond))
	l.phase = ""
}

func (l *lineReporter) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endPhase()
}

func (l *lineReporter) Add(files, bytes int64) {
	l.mu.Lock()
	l.files += files
	l.bytes += bytes
	l.mu.Unlock()
}

func (l *lineReporter) Status(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.out, msg)
}

func (l *lineReporter) Warn(msg string) { l.Status("warning: " + msg) }

// barReporter draws one progressbar per phase, sized in bytes, with the
// file count in its description.
type barReporter struct {
	mu                sync.Mutex
	out               io.Writer
	bar               *progressbar.ProgressBar
	phase             string
	files, totalFiles int64
}

func (b *barReporter) Phase(name string, files, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endPhase()
	if name == "" {
		return
	}
	b.phase, b.files, b.totalFiles = name, 0, files
	max := bytes
	if max <= 0 {
		max = -1 // a spinner when the size is unknown
	}
	b.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(b.out),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetDescription(b.describe()),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.out) }),
	)
}

func (b *barReporter) describe() string {
	if b.totalFiles > 0 {
		return fmt.Sprintf("%-10s %d/%d files", b.phase, b.files, b.totalFiles)
	}
	return fmt.Sprintf("%-10s %d files", b.phase, b.files)
}

func (b *barReporter) endPhase() {
	if b.bar != nil {
		_ = b.bar.Finish()
		b.bar = nil
	}
}

func (b *barReporter) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endPhase()
}

func (b *barReporter) Add(files, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil {
		return
	}
	b.files += files
	if files != 0 {
		b.bar.Describe(b.describe())
	}
	_ = b.bar.Add64(bytes)
}

func (b *barReporter) Status(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		_ = b.bar.Clear()
	}
	fmt.Fprintln(b.out, msg)
}

func (b *barReporter) Warn(msg string) { b.Status("warning: " + msg) }

func amount(files, bytes int64) string {
	s := plural(int(files), "file")
	if bytes > 0 {
		s += ", " + humanize.IBytes(uint64(bytes))
	}
	return s
}
