package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/validate"
)

// appDir is an application directory loaded and validated for a command
// that acts on the host.
type appDir struct {
	dir     string // absolute
	appYAML string // path of app.yaml, as the user named the directory
	app     *appconfig.App
	appID   string
	service string
	version string
	// companions are the valid companion files present, by kind.
	companions map[validate.Kind]validate.FileResult
	// cache, when set, returns the stat cache of dir's files, loading
	// since it was set (see loadCache).
	cache func() *hashcache.Cache
}

// statCache returns the stat cache of d's files: the one loading since
// d.cache was set, else one opened now.
func (d *appDir) statCache() *hashcache.Cache {
	if d.cache != nil {
		return d.cache()
	}
	return hashcache.Open(cachePath(d.dir))
}

// loadAppDir validates dir's app.yaml and companions, or the service yaml
// file dir names. Problems are printed
// on stderr as validate prints them; any error makes it return errReported.
// -A, -m and -V override the files; a missing version gets a generated one,
// as gcloud does, when genVersion is set.
func loadAppDir(ctx context.Context, io stdio, g globals, dir string, genVersion bool) (*appDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("application directory %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, usagef("application directory %s does not exist", dir)
	}
	// Validated by the path as given, so problems name the files as
	// `appcfg validate DIR` names them: relative to where the user is.
	var results []validate.FileResult
	switch {
	case st.IsDir():
		if results, err = validate.Dir(ctx, dir, g.validateOptions()); err != nil {
			return nil, err
		}
	case isYAMLFile(abs) && validate.KindOf(abs) == validate.KindApp:
		// A service's yaml file (app.yaml, worker.yaml): the service alone,
		// with the file's directory as its root, as appcfg.py's and
		// gcloud's file arguments mean; companions are named on their own.
		results = []validate.FileResult{validate.File(ctx, dir, validate.KindApp, g.validateOptions())}
		abs = filepath.Dir(abs)
	default:
		return nil, usagef("Not a directory: %s (give an application directory or a service's yaml file)", dir)
	}
	if err := reportProblems(io, g, results); err != nil {
		return nil, err
	}
	d := &appDir{dir: abs, appYAML: results[0].Path, companions: map[validate.Kind]validate.FileResult{}}
	app, ok := results[0].Config.(*appconfig.App)
	if !ok || app == nil {
		return nil, fmt.Errorf("%s: no configuration could be read", results[0].Path)
	}
	d.app = app
	for _, r := range results[1:] {
		d.companions[r.Kind] = r
	}
	d.appID = g.targetApp(io, firstNonEmpty(app.Application, app.Project), d.appYAML)
	if d.appID == "" {
		return nil, usagef("Expected -A app_id when application property in file %s is not set.", filepath.Base(d.appYAML))
	}
	d.service = firstNonEmpty(g.module, app.ServiceName())
	d.version = firstNonEmpty(g.version, app.Version)
	if d.version == "" && genVersion {
		// gcloud's rule: a timestamp, so each deploy without a version is new.
		d.version = time.Now().UTC().Format("20060102t150405")
	}
	return d, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// reportProblems prints every problem of results on stderr, and returns
// errReported when any file has an error, so a command acting on the host
// stops before it changes anything.
func reportProblems(io stdio, g globals, results []validate.FileResult) error {
	bad := false
	var all []appconfig.Problem
	for _, r := range results {
		for _, p := range r.Problems {
			fmt.Fprintln(io.err, p.String())
		}
		githubAnnotate(io, g, r.Problems)
		all = append(all, r.Problems...)
		bad = bad || !r.OK()
	}
	if bad {
		fmt.Fprintln(io.err, "appcfg: the configuration has errors (above); fix them and run again. `appcfg validate` checks it alone.")
		return &problemsError{problems: all}
	}
	return nil
}

// problemsError is errReported with the problems that were reported: the
// JSON error object lists them.
type problemsError struct{ problems []appconfig.Problem }

func (e *problemsError) Error() string {
	for _, p := range e.problems {
		if !p.Warning {
			return "the configuration has errors: " + p.String()
		}
	}
	return "the configuration has errors"
}

func (e *problemsError) Unwrap() error { return errReported }

// joinProblems adds the problems err reported (a *problemsError) to acc.
func joinProblems(acc *problemsError, err error) *problemsError {
	if acc == nil {
		acc = &problemsError{}
	}
	var pe *problemsError
	if errors.As(err, &pe) {
		acc.problems = append(acc.problems, pe.problems...)
	}
	return acc
}
