package logs

import (
	"context"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// Records hands fn each request log Download would write, oldest first, as
// the host keeps it: the records of machine-readable output (request_logs
// --format json), which need no line format. The window, the version and
// --vhost select as for Download; app log lines are kept at or above
// opts.Severity, none when it is below 0.
func Records(ctx context.Context, r backend.LogReader, opts Options, fn func(*backend.RequestLog) error) (Result, error) {
	loc := opts.Location
	if loc == nil {
		loc = Pacific()
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	start, end, err := Window(now(), loc, opts.EndDate, opts.NumDays)
	if err != nil {
		return Result{}, err
	}
	q := backend.LogQuery{App: opts.App, Service: opts.Service, Version: opts.Version, Start: start, End: end}
	if opts.Follow {
		// Polls resume as Download's do: after the default line of the
		// newest record handed over.
		return follow(ctx, q, opts, nil, func(ctx context.Context, q backend.LogQuery, opts Options, tr *resumeTracker, rp *resumePoint) (Result, error) {
			return recordsPass(ctx, r, q, opts, tr, rp, fn)
		})
	}
	var res Result
	err = r.ReadLogs(ctx, q, func(l backend.RequestLog) error {
		if !matchesVHost(l.Host, opts.VHost) {
			return nil
		}
		keepAppLogs(&l, opts.Severity)
		res.Requests++
		res.Lines += 1 + len(l.AppLogs)
		return fn(&l)
	})
	return res, err
}

// keepAppLogs keeps the app log lines of l at or above severity (none when
// it is below 0).
func keepAppLogs(l *backend.RequestLog, severity backend.Severity) {
	kept := l.AppLogs[:0:0]
	for _, a := range l.AppLogs {
		if severity >= 0 && a.Level >= severity {
			kept = append(kept, a)
		}
	}
	l.AppLogs = kept
}
