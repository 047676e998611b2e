package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// Options is one request_logs download.
type Options struct {
	App, Service, Version string // Version "" for every version

	// NumDays is how many days to get, ending with EndDate; 0 for all.
	NumDays int
	// EndDate is the last day (YYYY-MM-DD, Pacific); "" for today.
	EndDate string
	// VHost keeps only requests for this host ("" for all).
	VHost string
	Format
	// Append adds to Output after its newest request line instead of
	// replacing it.
	Append bool
	// Output is the file written, "-" for Stdout.
	Output string
	Stdout io.Writer
	// Status receives the legacy tool's status lines; nil for none.
	Status io.Writer
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	// Follow keeps polling for new logs after the download, every
	// FollowInterval (default 1s), until the context ends or FollowTimeout
	// (0 for none) passes. Polls read logs at least FollowSettle old
	// (default 2s; negative for none), the last poll at the timeout up
	// to now.
	Follow         bool
	FollowTimeout  time.Duration
	FollowInterval time.Duration
	FollowSettle   time.Duration
}

// Result is what a download wrote.
type Result struct {
	Requests int // request records
	Lines    int // physical lines, what the legacy tool calls records
}

// ErrBadEndDate is returned for an --end_date not in YYYY-MM-DD form.
var ErrBadEndDate = errors.New("End date must be in the format YYYY-MM-DD.")

// Window returns the times [start, end) of numDays days ending with the day
// endDate (today in loc when ""), days cut at midnight in loc. numDays 0
// leaves start zero: everything up to end.
func Window(now time.Time, loc *time.Location, endDate string, numDays int) (start, end time.Time, err error) {
	var day time.Time
	if endDate == "" {
		y, m, d := now.In(loc).Date()
		day = time.Date(y, m, d, 0, 0, 0, 0, loc)
	} else {
		day, err = time.ParseInLocation("2006-01-02", endDate, loc)
		if err != nil {
			return start, end, ErrBadEndDate
		}
	}
	end = day.AddDate(0, 0, 1)
	if numDays > 0 {
		start = day.AddDate(0, 0, -(numDays - 1))
	}
	return start, end, nil
}

func (o *Options) statusf(format string, args ...any) {
	if o.Status != nil {
		fmt.Fprintf(o.Status, format+"\n", args...)
	}
}

// Download streams the logs opts selects from r to opts.Output, oldest
// first. A new file is written to a temporary file and renamed over Output
// only when complete, so an interrupted download leaves the old file.
func Download(ctx context.Context, r backend.LogReader, opts Options) (Result, error) {
	if opts.Location == nil {
		opts.Location = Pacific()
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	start, end, err := Window(now(), opts.Location, opts.EndDate, opts.NumDays)
	if err != nil {
		return Result{}, err
	}
	if opts.Append && opts.Output == "-" {
		return Result{}, errors.New("Can't combine --append with output to stdout.")
	}
	q := backend.LogQuery{App: opts.App, Service: opts.Service, Version: opts.Version, Start: start, End: end}
	var resume *resumePoint
	if opts.Append {
		rp, why := findResume(opts.Output)
		switch {
		case why != "":
			opts.statusf("%s", why)
		case rp != nil:
			resume = rp
			if t := time.Unix(rp.sec, 0); t.After(q.Start) {
				q.Start = t
			}
		}
	}
	module := ""
	if opts.Service != "" && opts.Service != "default" {
		module = "module " + opts.Service + " "
	}
	opts.statusf("Downloading request logs for app %s %sversion %s.", opts.App, module, firstNonEmpty(opts.Version, "(all)"))
	if opts.Follow {
		if opts.Output != "-" {
			opts.statusf("Copying request logs to '%s' and following them.", opts.Output)
		}
		return follow(ctx, q, opts, resume, func(ctx context.Context, q backend.LogQuery, opts Options, tr *resumeTracker, rp *resumePoint) (Result, error) {
			return followPass(ctx, r, q, opts, tr, rp)
		})
	}

	out, err := openOutput(opts)
	if err != nil {
		return Result{}, err
	}
	if opts.Output != "-" {
		opts.statusf("Copying request logs to '%s'.", opts.Output)
	}
	res, werr := stream(ctx, r, q, opts, resume, out.w)
	if err := out.finish(werr == nil); werr == nil && err != nil {
		werr = err
	}
	if werr != nil {
		return res, werr
	}
	opts.statusf("Copied %d records.", res.Lines)
	return res, nil
}

// output is where lines go, and how they are committed.
type output struct {
	w      io.Writer
	finish func(ok bool) error
}

func openOutput(opts Options) (*output, error) {
	if opts.Output == "-" {
		return &output{w: opts.Stdout, finish: func(bool) error { return nil }}, nil
	}
	if opts.Append {
		f, err := os.OpenFile(opts.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("Can't write '%s': %w.", opts.Output, err)
		}
		if err := endWithNewline(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("Can't write '%s': %w.", opts.Output, err)
		}
		return &output{w: f, finish: func(bool) error { return closeOut(f, opts.Output) }}, nil
	}
	dir := filepath.Dir(opts.Output)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(opts.Output)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("Can't write '%s': %w.", opts.Output, err)
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(opts.Output); err == nil {
		mode = st.Mode().Perm()
	}
	return &output{w: &allocatingFile{f: tmp}, finish: func(ok bool) error {
		err := closeOut(tmp, opts.Output)
		if ok && err == nil {
			if err = os.Chmod(tmp.Name(), mode); err == nil {
				err = os.Rename(tmp.Name(), opts.Output)
			}
		}
		if !ok || err != nil {
			os.Remove(tmp.Name())
		}
		if err != nil {
			return fmt.Errorf("Can't write '%s': %w.", opts.Output, err)
		}
		return nil
	}}, nil
}

func closeOut(f *os.File, name string) error {
	if err := f.Close(); err != nil {
		return fmt.Errorf("Can't write '%s': %w.", name, err)
	}
	return nil
}

// endWithNewline adds a newline to a non-empty file whose last line lacks
// one, so appended lines start on a line of their own.
func endWithNewline(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], st.Size()-1); err != nil {
		// Opened write-only: reopen to read the byte.
		rf, oerr := os.Open(f.Name())
		if oerr != nil {
			return oerr
		}
		defer rf.Close()
		if _, err := rf.ReadAt(last[:], st.Size()-1); err != nil {
			return err
		}
	}
	if last[0] != '\n' {
		_, err = f.Write([]byte{'\n'})
	}
	return err
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// matchesVHost reports whether host names vhost, with or without a port.
func matchesVHost(host, vhost string) bool {
	if vhost == "" || strings.EqualFold(host, vhost) {
		return true
	}
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.Contains(host[i:], "]") {
		return strings.EqualFold(host[:i], vhost)
	}
	return false
}
