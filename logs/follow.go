package logs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/backoff"
)

// Defaults of following.
const (
	defaultFollowInterval = time.Second
	// defaultFollowSettle is how old a request must be before a poll reads
	// it: a request is logged when it ends, so one that started earlier
	// may be logged after a later one was printed; a poll reads only up to
	// now minus this, and the poll at --follow_timeout reads up to now.
	defaultFollowSettle = 2 * time.Second
	// maxFollowBackoff bounds the wait between failed polls.
	maxFollowBackoff = 30 * time.Second
	// shownFailures is how many failed polls are reported one by one;
	// the rest are counted.
	shownFailures = 3
	// maxFinalRetries is how often the poll at --follow_timeout is tried
	// again before following ends with its error.
	maxFinalRetries = 5
)

// outputError is a failure to write the output: following stops on it,
// while a failure to read is retried.
type outputError struct{ err error }

func (e outputError) Error() string { return e.err.Error() }
func (e outputError) Unwrap() error { return e.err }

// follow is Download with opts.Follow: the logs q selects, then a poll each
// FollowInterval for what was logged since, until ctx ends (the normal way
// to stop, not an error) or FollowTimeout passes. Each poll resumes after
// the newest request line written, exactly as --append resumes after the
// file's (the same resume point and skipper), so nothing is printed twice
// and nothing is left out; a poll that fails is retried with backoff from
// the same point.
func follow(ctx context.Context, q backend.LogQuery, opts Options, resume *resumePoint, pass passFunc) (Result, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	interval := opts.FollowInterval
	if interval <= 0 {
		interval = defaultFollowInterval
	}
	settle := opts.FollowSettle
	if settle == 0 {
		settle = defaultFollowSettle
	}
	var deadline time.Time
	if opts.FollowTimeout > 0 {
		deadline = now().Add(opts.FollowTimeout)
	}
	tr := newResumeTracker(resume)
	replaced := opts.Append || opts.Output == "-" // later polls append
	var total Result
	failures, failed, finalFailures := 0, 0, 0
	for {
		final := !deadline.IsZero() && !now().Before(deadline)
		pq := q
		pq.End = time.Time{} // up to now
		if !final && settle > 0 {
			pq.End = now().Add(-settle)
		}
		rp := tr.point()
		if rp != nil {
			if t := time.Unix(rp.sec, 0); t.After(pq.Start) {
				pq.Start = t
			}
		}
		popts := opts
		popts.Append = replaced
		res, err := pass(ctx, pq, popts, tr, rp)
		total.Requests += res.Requests
		total.Lines += res.Lines
		switch {
		case err == nil:
			replaced, failures = true, 0
		case ctx.Err() != nil:
			return total, nil // interrupted: the end of following
		case !retryable(err):
			return total, err
		default:
			failures++
			failed++
			if failed <= shownFailures {
				opts.statusf("Reading the request logs failed (%v); trying again.", err)
			}
		}
		if final && err == nil {
			break
		}
		if final {
			// The last poll must succeed, or what was logged since the
			// one before is missing: it is retried a few times.
			if finalFailures++; finalFailures > maxFinalRetries {
				return total, fmt.Errorf("following the request logs: the last poll failed %d times: %w", finalFailures, err)
			}
		}
		wait := interval
		if failures > 0 {
			wait = max(wait, backoff.Jitter(failures-1, interval, maxFollowBackoff))
		}
		if !deadline.IsZero() && !final {
			wait = min(wait, deadline.Sub(now()))
		}
		if err := backoff.Sleep(ctx, max(wait, 0)); err != nil {
			return total, nil
		}
	}
	if failed > shownFailures {
		opts.statusf("%d more polls failed and were retried.", failed-shownFailures)
	}
	opts.statusf("Copied %d records.", total.Lines)
	return total, nil
}

// passFunc is one poll: the logs of q after rp, shown to tr as the lines
// of the default format. opts.Append is set for every poll but a first one
// that replaces its file.
type passFunc func(ctx context.Context, q backend.LogQuery, opts Options, tr *resumeTracker, rp *resumePoint) (Result, error)

// followPass writes one poll's logs. A new file (the first poll without
// --append) is written whole or not at all, as Download writes it; later
// polls append. On failure the tracker is put back to rp when the output
// dropped what was written.
func followPass(ctx context.Context, r backend.LogReader, q backend.LogQuery, opts Options, tr *resumeTracker, rp *resumePoint) (Result, error) {
	out, err := openOutput(opts)
	if err != nil {
		return Result{}, outputError{err}
	}
	before := tr.clone()
	res, werr := stream(ctx, r, q, opts, rp, trackingWriter{w: out.w, t: tr})
	if err := out.finish(werr == nil); werr == nil && err != nil {
		werr = outputError{err}
	}
	if werr != nil && !opts.Append && opts.Output != "-" {
		// The temporary file is gone: so is what this pass wrote.
		*tr = *before
		res = Result{}
	}
	return res, werr
}

// retryable reports whether a failed poll may be tried again: a read that
// failed, not the output, a refused credential or a missing capability.
func retryable(err error) bool {
	var oe outputError
	return !errors.As(err, &oe) && !errors.Is(err, backend.ErrDenied) &&
		!errors.Is(err, backend.ErrUnsupported) && !errors.Is(err, backend.ErrLimit)
}

// recordsPass is one poll of Records: each log goes to fn, and its default
// line to tr, so a poll resumes as --append does whatever the output.
func recordsPass(ctx context.Context, r backend.LogReader, q backend.LogQuery, opts Options, tr *resumeTracker, rp *resumePoint, fn func(*backend.RequestLog) error) (Result, error) {
	fm := newFormatter(defaultFormat())
	sk := newSkipper(rp, fm)
	var res Result
	deliver := func(h *heldLog) error {
		tr.observe(h.text)
		l := h.log
		keepAppLogs(&l, opts.Severity)
		res.Requests++
		res.Lines += 1 + len(l.AppLogs)
		if err := fn(&l); err != nil {
			return outputError{err}
		}
		return nil
	}
	err := r.ReadLogs(ctx, q, func(l backend.RequestLog) error {
		if !matchesVHost(l.Host, opts.VHost) {
			return nil
		}
		if sk != nil {
			if sk.add(&l) {
				return nil
			}
			if err := sk.each(opts.Status, deliver); err != nil {
				return err
			}
			sk = nil
		}
		text, _ := fm.appendLog(nil, &l)
		return deliver(&heldLog{text: text, log: l})
	})
	if err == nil && sk != nil {
		err = sk.each(opts.Status, deliver)
	}
	return res, err
}
