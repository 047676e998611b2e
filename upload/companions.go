package upload

import (
	"context"
	"fmt"
	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/indexes"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/progress"
)

// pushCompanions pushes index.yaml and the other configurations after the
// version exists, in the legacy tool's order. As there, a failure to push
// indexes, cron or queues leaves a working app and is only reported; dispatch
// and DoS rules decide where traffic goes, so failing to push them is an
// error.
func pushCompanions(ctx context.Context, b backend.Backend, opts Options, res *Result, rep progress.Reporter) error {
	if opts.Indexes != nil {
		if err := pushIndexes(ctx, b, opts.App, opts.Indexes, rep); err != nil {
			warn(res, rep, fmt.Sprintf("Your app was updated, but there was an error updating your indexes: %v", err))
		} else {
			res.Pushed = append(res.Pushed, "indexes")
		}
	}
	for _, c := range opts.Configs {
		err := pushConfig(ctx, b, opts.App, c, rep)
		switch {
		case err == nil:
			res.Pushed = append(res.Pushed, string(c.Kind))
		case c.Kind == backend.ConfigCron || c.Kind == backend.ConfigQueue:
			warn(res, rep, fmt.Sprintf("Your app was updated, but there was an error updating your %s: %v", legacyNoun(c.Kind), err))
		default:
			return fmt.Errorf("your app was updated, but %s could not be pushed: %w", human.Path(c.File), err)
		}
	}
	return nil
}

// pushIndexes adds the indexes the host lacks exactly as update_indexes
// does (definitions compared as the SDK compares them), without waiting for
// them to build.
func pushIndexes(ctx context.Context, b backend.Backend, app string, defs *appconfig.IndexDefinitions, rep progress.Reporter) error {
	im, err := backend.As[backend.IndexManager](b, "indexes")
	if err != nil {
		return err
	}
	rep.Status(fmt.Sprintf("Updating %d index definition(s).", len(defs.Indexes)))
	_, err = indexes.Update(ctx, im, app, defs, indexes.Options{}, rep)
	return err
}

func pushConfig(ctx context.Context, b backend.Backend, app string, c Config, rep progress.Reporter) error {
	cs, err := backend.As[backend.ConfigStore](b, string(c.Kind)+" configuration")
	if err != nil {
		return err
	}
	rep.Status(fmt.Sprintf("Updating %s from %s.", c.Kind, human.Path(c.File)))
	return cs.PutConfig(ctx, app, c.Kind, c.Doc)
}

func legacyNoun(k backend.ConfigKind) string {
	if k == backend.ConfigCron {
		return "cron tasks"
	}
	return "queues"
}

func warn(res *Result, rep progress.Reporter, msg string) {
	res.Warnings = append(res.Warnings, msg)
	rep.Warn(msg)
}

// PushCompanions pushes opts' companion files (Indexes, Configs) to
// opts.App without deploying a version, as an update that names only
// companion files does.
func PushCompanions(ctx context.Context, b backend.Backend, opts Options, rep progress.Reporter) (*Result, error) {
	rep = progress.Or(rep)
	res := &Result{App: opts.App, DryRun: opts.DryRun}
	if opts.DryRun {
		return res, nil
	}
	return res, pushCompanions(ctx, b, opts, res, rep)
}
