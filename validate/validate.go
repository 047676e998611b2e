package validate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/redact"
	"github.com/appcfg/appcfg/internal/regularfile"
	"github.com/appcfg/appcfg/internal/yaml11"
)

// Kind is the kind of a configuration file.
type Kind string

// The configuration file kinds.
const (
	KindApp      Kind = "app" // app.yaml or another service's yaml
	KindIndex    Kind = "index"
	KindCron     Kind = "cron"
	KindQueue    Kind = "queue"
	KindDispatch Kind = "dispatch"
	KindDOS      Kind = "dos"
)

// Companions are the companion kinds looked for beside app.yaml, in the
// order they are reported.
var Companions = []Kind{KindIndex, KindCron, KindQueue, KindDispatch, KindDOS}

// Options override values of the files, as the global flags -A, -m, -V,
// -r, -R and -E do.
type Options struct {
	AppID   string // overrides application:
	Service string // overrides service:/module:
	Version string // overrides version:
	// Runtime overrides runtime:; unless AnyRuntime, it must be one of the
	// runtimes appcfg.py knew or a current one.
	Runtime    string
	AnyRuntime bool
	// EnvVariables are set over env_variables:.
	EnvVariables map[string]string
	// Strict makes every warning an error (--strict): the deliberate
	// differences from the SDK, for those who want none.
	Strict bool
}

// FileResult is the outcome of checking one file.
type FileResult struct {
	Path     string
	Kind     Kind
	Problems []appconfig.Problem
	// Config is the parsed, defaulted model: *appconfig.App,
	// *appconfig.IndexDefinitions, *appconfig.CronInfo, *appconfig.QueueInfo,
	// *appconfig.DispatchInfo or *appconfig.DOSInfo. It is nil when the file
	// could not be parsed at all; with errors it may be partial.
	Config any
}

// OK reports whether the file has no errors (warnings allowed).
func (r FileResult) OK() bool {
	for _, p := range r.Problems {
		if !p.Warning {
			return false
		}
	}
	return true
}

// KindOf guesses a file's kind from its name: index.yaml is an index file and
// so on; any other yaml file is an app or service configuration.
func KindOf(path string) Kind {
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".yaml"), ".yml")
	for _, k := range Companions {
		if base == string(k) {
			return k
		}
	}
	return KindApp
}

// File checks one file of the given kind. No problem it returns carries a
// credential: whatever a check quoted from a file (an include may name any
// file, a private key among them) is scrubbed here, once for every kind.
func File(ctx context.Context, path string, kind Kind, opts Options) FileResult {
	res := checkFile(ctx, path, kind, opts)
	for i := range res.Problems {
		p := &res.Problems[i]
		p.Message, p.Hint = redact.String(p.Message), redact.String(p.Hint)
	}
	if opts.Strict {
		yaml11.Harden(res.Problems)
	}
	return res
}

func checkFile(ctx context.Context, path string, kind Kind, opts Options) FileResult {
	res := FileResult{Path: path, Kind: kind}
	if err := ctx.Err(); err != nil {
		return withError(res, err.Error())
	}
	data, err := regularfile.Read(path, -1)
	var nr *regularfile.NotRegularError
	if errors.As(err, &nr) && kind != KindApp {
		// appcfg.py looks companions up with os.path.isfile, so it
		// ignores this one: so does appcfg, saying so.
		res.Problems = append(res.Problems, appconfig.Problem{File: path, Line: 1, Column: 1, Warning: true,
			Message: fmt.Sprintf("the file is %s, not a regular file: it is ignored, as appcfg.py ignores it", regularfile.Describe(nr.Mode)),
			Hint:    "make it a regular file, or remove it"})
		return res
	}
	if err != nil {
		return withError(res, appconfig.ReadError(err))
	}
	switch kind {
	case KindApp:
		return checkApp(path, data, opts)
	case KindIndex:
		return checkIndex(path, data, opts)
	case KindCron:
		return checkCron(path, data, opts)
	case KindQueue:
		return checkQueue(path, data, opts)
	case KindDispatch:
		return checkDispatch(path, data, opts)
	case KindDOS:
		return checkDOS(path, data, opts)
	}
	return withError(res, fmt.Sprintf("unknown configuration kind %q", kind))
}

// FindFile finds <name>.yaml, or else <name>.yml, in dir, as appcfg.py
// does (regular files only); failing that, the first of them that exists
// but is no regular file (a named pipe …), for File to report rather than
// pass over in silence. "" when there is neither.
func FindFile(dir, name string) string {
	odd := ""
	for _, ext := range []string{".yaml", ".yml"} {
		p := filepath.Join(dir, name+ext)
		st, err := os.Stat(p)
		switch {
		case err != nil || st.IsDir():
		case st.Mode().IsRegular():
			return p
		case odd == "":
			odd = p
		}
	}
	return odd
}

// Dir checks an application directory: its app.yaml and every companion file
// present beside it. A directory without app.yaml is an error, as in the
// legacy tool.
func Dir(ctx context.Context, dir string, opts Options) ([]FileResult, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("application directory: %w", unwrapPathError(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	app := FindFile(dir, "app")
	if app == "" {
		return nil, fmt.Errorf("directory %s does not contain configuration file app.yaml", dir)
	}
	results := []FileResult{File(ctx, app, KindApp, opts)}
	for _, k := range Companions {
		if p := FindFile(dir, string(k)); p != "" {
			results = append(results, File(ctx, p, k, opts))
		}
	}
	return results, nil
}

// Paths checks each argument: a directory as Dir does, a file by KindOf.
// With no arguments it checks the current directory.
func Paths(ctx context.Context, paths []string, opts Options) ([]FileResult, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var results []FileResult
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, unwrapPathError(err))
		}
		if st.IsDir() {
			rs, err := Dir(ctx, p, opts)
			if err != nil {
				return nil, err
			}
			results = append(results, rs...)
			continue
		}
		results = append(results, File(ctx, p, KindOf(p), opts))
	}
	return results, nil
}

func withError(res FileResult, msg string) FileResult {
	res.Problems = append(res.Problems, appconfig.Problem{File: res.Path, Line: 1, Column: 1, Message: msg})
	return res
}

// unwrapPathError drops the path os errors repeat, since callers name the file.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
