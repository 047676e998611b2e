package upload

import (
	"context"
	"fmt"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/progress"
	"github.com/appcfg/appcfg/internal/runtimes"
)

// checkRuntime applies the runtime lifecycle (internal/runtimes) before
// anything is hashed or sent, on hosts that retire runtimes: the host's
// own dates when it gives them, else the shipped table. A runtime past
// deprecation stops the deploy; one past end of support is a warning.
// Hosts that run every runtime (the local one) are not asked.
func checkRuntime(ctx context.Context, b backend.Backend, opts Options, res *Result, rep progress.Reporter) error {
	lister, ok := b.(backend.RuntimeLister)
	if !ok || opts.Runtime == "" || opts.AllowDeprecatedRuntime {
		return nil
	}
	r, known := runtimes.Lookup(opts.Runtime)
	list, err := lister.ListRuntimes(ctx, opts.App)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if !known {
			return nil // the table has nothing to say either
		}
		warn(res, rep, fmt.Sprintf("the host's runtime dates could not be read (%v); checking %s against appcfg's table of %s", err, opts.Runtime, runtimes.TableDate))
	}
	for _, h := range list {
		if h.Name == opts.Runtime {
			r = runtimes.Runtime{Name: h.Name, EndOfSupport: h.EndOfSupport, Deprecated: h.Deprecated, Decommissioned: h.Decommissioned}
			known = true
		}
	}
	if !known {
		return nil
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	w, err := runtimes.Check(r, now())
	if err != nil {
		return err
	}
	if w != "" {
		warn(res, rep, w)
	}
	return nil
}

// warn records a problem that does not stop the deploy and reports it.
func warn(res *Result, rep progress.Reporter, msg string) {
	res.Warnings = append(res.Warnings, msg)
	rep.Warn(msg)
}
