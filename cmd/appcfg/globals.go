package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend/appengine"
	"github.com/appcfg/appcfg/validate"
)

// Names of the global flags, as appcfg.py spelled them.
const (
	flagQuiet       = "quiet"
	flagVerbose     = "verbose"
	flagNoisy       = "noisy"
	flagApplication = "application"
	flagModule      = "module"
	flagVersion     = "version"
	flagRuntime     = "runtime"
	flagAnyRuntime  = "allow_any_runtime"
	flagEnvVariable = "env_variable"
	flagBackend     = "backend"
)

// globalFlags are the flags of appcfg.py that apply to every command.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, Usage: "print no status lines, only results and errors"},
		&cli.BoolFlag{Name: flagVerbose, Aliases: []string{"v"}, Usage: "print more about what is being done"},
		&cli.BoolFlag{Name: flagNoisy, Usage: "print everything, including each request (credentials redacted)"},
		&cli.StringFlag{Name: flagFormat, Value: string(formatText),
			Usage: "output: text, json (one JSON document on stdout) or ndjson (one JSON event a line: progress, warnings, the result); docs/output.md"},
		&cli.BoolFlag{Name: flagJSON, Usage: "the same as --format json"},
		&cli.BoolFlag{Name: flagStrict, Usage: "make warnings errors: every deliberate difference from the SDK (a value it reads through Python's bool()), .py/.pyc conflicts, an empty skip_files …; for CI"},
		&cli.StringFlag{Name: flagApplication, Aliases: []string{"A"}, EnvVars: []string{"APPCFG_APPLICATION"},
			Usage: "application (project) id; overrides application: in the yaml files", Category: "app"},
		&cli.StringFlag{Name: flagModule, Aliases: []string{"m", "M"}, EnvVars: []string{"APPCFG_MODULE"},
			Usage: "service (module) name; overrides service:/module: in app.yaml", Category: "app"},
		&cli.StringFlag{Name: flagVersion, Aliases: []string{"V"}, EnvVars: []string{"APPCFG_VERSION"},
			Usage: "app version; overrides version: in app.yaml (alone, -V prints appcfg's version)", Category: "app"},
		&cli.StringFlag{Name: flagRuntime, Aliases: []string{"r"},
			Usage: "runtime; overrides runtime: in app.yaml", Category: "app"},
		&cli.BoolFlag{Name: flagAnyRuntime, Aliases: []string{"R"},
			Usage: "accept any runtime name with --runtime", Category: "app"},
		&cli.StringFlag{Name: flagBackend, EnvVars: []string{"APPCFG_BACKEND"}, Value: "local",
			Usage: "hosting backend: local (the embedded store in the user data dir), local:PATH, datastore://PROJECT or appengine://PROJECT", Category: "host"},
		&cli.StringSliceFlag{Name: flagEnvVariable, Aliases: []string{"E"},
			Usage: "NAME:VALUE set over app.yaml's env_variables (repeatable)", Category: "app"},
	}
}

// globals are the parsed global flags every command may use.
type globals struct {
	verbosity int // 0 quiet, 1 normal, 2 verbose, 3 noisy
	appID     string
	module    string
	version   string
	runtime   string
	anyRT     bool
	envVars   map[string]string
	backend   string
	// project is the project the backend location names, "" for none;
	// see target.go for how it and appID decide the application.
	project string
	strict  bool // warnings are errors (--strict)
	// format is how results reach stdout (--format, --json); command is
	// the command's name, which ndjson events carry.
	format  format
	command string
	// auth and appengine are the authentication and App Engine flags,
	// which openBackend hands to the backend's factory.
	auth      authSettings
	appengine appengine.Settings
}

func readGlobals(c *cli.Context) (globals, error) {
	g := globals{
		verbosity: 1,
		appID:     projectID(c.String(flagApplication)),
		module:    c.String(flagModule),
		version:   c.String(flagVersion),
		runtime:   c.String(flagRuntime),
		anyRT:     c.Bool(flagAnyRuntime),
		backend:   c.String(flagBackend),
		strict:    c.Bool(flagStrict),
		auth:      readAuth(c),
		appengine: readAppengineSettings(c),
	}
	if c.Command != nil {
		g.command = c.Command.Name
	}
	f, err := parseFormat(c.String(flagFormat), c.Bool(flagJSON))
	if err != nil {
		return g, err
	}
	g.format = f
	g.project = locationProject(g.backend)
	if err := g.checkTarget(); err != nil {
		return g, err
	}
	switch {
	case c.Bool(flagQuiet):
		g.verbosity = 0
	case c.Bool(flagNoisy):
		g.verbosity = 3
	case c.Bool(flagVerbose):
		g.verbosity = 2
	}
	for _, kv := range c.StringSlice(flagEnvVariable) {
		name, value, ok := strings.Cut(kv, ":")
		if !ok || name == "" {
			return g, usagef("option -E: invalid value: %s (must match NAME:VALUE)", kv)
		}
		if g.envVars == nil {
			g.envVars = map[string]string{}
		}
		g.envVars[name] = value
	}
	return g, nil
}

// validateOptions are the overrides the global flags make to app.yaml.
func (g globals) validateOptions() validate.Options {
	return validate.Options{AppID: g.appID, Service: g.module, Version: g.version,
		Runtime: g.runtime, AnyRuntime: g.anyRT, EnvVariables: g.envVars, Strict: g.strict}
}

// projectID is the project an application id names: appcfg.py's ids carry
// a partition ("s~app", "e~app", "dev~app") that is no part of the project,
// while a domain ("example.com:app") is.
func projectID(app string) string {
	if _, rest, ok := strings.Cut(app, "~"); ok {
		return rest
	}
	return app
}

// statusf prints a status line on stderr unless --quiet is set.
func (g globals) statusf(io stdio, format string, args ...any) {
	if g.verbosity > 0 {
		fmt.Fprintf(io.err, format+"\n", args...)
	}
}
