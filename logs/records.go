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
	var res Result
	err = r.ReadLogs(ctx, q, func(l backend.RequestLog) error {
		if !matchesVHost(l.Host, opts.VHost) {
			return nil
		}
		kept := l.AppLogs[:0:0]
		for _, a := range l.AppLogs {
			if opts.Severity >= 0 && a.Level >= opts.Severity {
				kept = append(kept, a)
			}
		}
		l.AppLogs = kept
		res.Requests++
		res.Lines += 1 + len(kept)
		return fn(&l)
	})
	return res, err
}
