package validate

import (
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"

	"github.com/appcfg/appcfg/appconfig"
)

// checkApp checks an app.yaml (or another service's yaml) as gcloud does:
// the SDK's parse with builtins and includes merged (appconfig.LoadAppData),
// then gcloud's refusals for second-generation runtimes, then the -A/-m/-V
// overrides.
func checkApp(path string, data []byte, opts Options) FileResult {
	res := FileResult{Path: path, Kind: KindApp}
	app, problems := appconfig.LoadAppData(path, data)
	res.Problems = problems
	if app == nil {
		return res
	}
	res.Problems = append(res.Problems, secondGenProblems(app)...)
	res.Problems = append(res.Problems, deployWarnings(app)...)
	res.Problems = append(res.Problems, applyOverrides(app, opts)...)
	res.Config = app
	return res
}

// secondGenProblems are gcloud's refusals for the second-generation
// runtimes: skip_files (replaced by .gcloudignore), threadsafe and
// application_readable.
func secondGenProblems(app *appconfig.App) []appconfig.Problem {
	if !app.IsSecondGen() {
		return nil
	}
	var out []appconfig.Problem
	add := func(pos appconfig.Pos, field, msg, hint string) {
		out = append(out, appconfig.Problem{File: app.Path, Line: pos.Line, Column: pos.Column, Field: field, Message: msg, Hint: hint})
	}
	// skip_files merged in from an include counts too, as in gcloud.
	if app.Meta.Has("skip_files") || app.SkipFiles != nil {
		key := "skip_files"
		if !app.Meta.Has(key) {
			key = "includes"
		}
		add(app.Meta.KeyAt(key), "skip_files",
			fmt.Sprintf("skip_files cannot be used with the [%s] runtime. Ignore patterns are instead expressed in a .gcloudignore file.", app.Runtime),
			"move the patterns to a .gcloudignore file (see `gcloud topic gcloudignore`) and remove skip_files:")
	}
	if app.Threadsafe != nil {
		add(app.Meta.KeyAt("threadsafe"), "threadsafe",
			fmt.Sprintf("The [threadsafe] field is specified in file [%s]. This field is not supported with runtime [%s] and can safely be removed.", app.Path, app.Runtime),
			"remove threadsafe:")
	}
	for _, h := range app.Handlers {
		if h.ApplicationReadable != nil && h.File == app.Path {
			add(h.Meta.KeyAt("application_readable"), h.Meta.Field("application_readable"),
				fmt.Sprintf("The [application_readable] field is specified in file [%s]. This field is not configurable with runtime [%s] since static files are always readable by the application. It can safely be removed.", app.Path, app.Runtime),
				"remove application_readable:")
		}
	}
	return out
}

// deployWarnings are what gcloud's deploy refuses or warns about beyond the
// SDK's parse (yaml_parsing.ServiceYamlInfo.Validate). The parse accepts
// these files, so they are warnings here: the file is valid, but today's
// App Engine will not take it as it is.
func deployWarnings(app *appconfig.App) []appconfig.Problem {
	var out []appconfig.Problem
	warn := func(key, msg, hint string) {
		pos := app.Meta.At(key)
		out = append(out, appconfig.Problem{File: app.Path, Line: max(pos.Line, 1), Column: max(pos.Column, 1),
			Field: key, Message: msg, Hint: hint, Warning: true})
	}
	if app.Runtime != "vm" && !app.IsVM() {
		switch {
		case app.Runtime == "python":
			warn("runtime", fmt.Sprintf("Service [%s] uses the Python 2.5 runtime, which gcloud no longer deploys.", app.ServiceName()),
				"use runtime: python27 (with threadsafe:) instead")
		case app.Runtime == "python-compat":
			warn("runtime", `"python-compat" is not a supported runtime.`, "use runtime: python27, or env: flex with runtime: python")
		case app.Runtime == "custom" && app.Env == "":
			warn("runtime", `runtime "custom" requires that env be explicitly specified.`, "add env: flex")
		}
	}
	if flex := app.Env == "2" || app.Env == "flex" || app.Env == "flexible"; flex && app.EffectiveRuntime() == "python27" {
		warn("runtime", `The "python27" is not a valid runtime in env: flex.`, "use runtime: python")
	}
	if app.Runtime == "python27" && !app.IsVM() {
		for i, l := range app.Libraries {
			if l.Name == "ssl" && l.Version == "2.7" {
				pos := l.Meta.At("version")
				out = append(out, appconfig.Problem{File: app.Path, Line: pos.Line, Column: pos.Column,
					Field: fmt.Sprintf("libraries[%d].version", i), Warning: true,
					Message: "You are using an outdated version [2.7] of the Python SSL library.",
					Hint:    `use version: latest or "2.7.11"`})
			}
		}
	}
	return out
}

// applyOverrides sets the values the global flags -A, -m and -V give over
// the file's, as appcfg.py did after parsing. A flag value the server would
// refuse is reported against the file, at the key it replaces.
func applyOverrides(app *appconfig.App, opts Options) []appconfig.Problem {
	var out []appconfig.Problem
	check := func(flag, key, value string, ok func(string) bool, hint string) {
		if ok(value) {
			return
		}
		pos := app.Meta.KeyAt(key)
		out = append(out, appconfig.Problem{File: app.Path, Line: max(pos.Line, 1), Column: max(pos.Column, 1), Field: key,
			Message: fmt.Sprintf("the %s value %q is not a valid %s", flag, value, key), Hint: hint})
	}
	if opts.AppID != "" {
		check("-A/--application", "application", opts.AppID, appconfig.ValidApplicationID,
			"use the project id: lowercase letters, digits and hyphens")
		app.Application = opts.AppID
	}
	if opts.Service != "" {
		check("-m/--module", "service", opts.Service, appconfig.ValidServiceID,
			"use lowercase letters, digits and hyphens (at most 63), not starting or ending with a hyphen")
		app.Service = opts.Service
	}
	if opts.Version != "" {
		check("-V/--version", "version", opts.Version, appconfig.ValidVersionID,
			"use lowercase letters, digits and hyphens (at most 63), without -dot- and not starting with ah-builtin")
		app.Version = opts.Version
	}
	if opts.Runtime != "" {
		known := func(r string) bool { return opts.AnyRuntime || knownRuntime(r) }
		check("-r/--runtime", "runtime", opts.Runtime, known,
			"give -R/--allow_any_runtime to deploy it anyway")
		app.Runtime = opts.Runtime
	}
	if len(opts.EnvVariables) > 0 {
		env := make(map[string]string, len(app.EnvVariables)+len(opts.EnvVariables))
		for k, v := range app.EnvVariables {
			env[k] = v
		}
		for k, v := range opts.EnvVariables {
			env[k] = v
		}
		app.EnvVariables = env
	}
	return out
}

// legacyRuntimes are the runtimes appcfg.py accepted for -r without -R.
var legacyRuntimes = map[string]bool{
	"contrib-dart": true, "dart": true, "go": true, "php": true, "php55": true, "php7": true,
	"python": true, "python27": true, "python-compat": true, "java": true, "java7": true,
	"vm": true, "custom": true, "nodejs": true, "ruby": true,
}

// currentRuntime matches the runtimes of today's hosts (python312, go122,
// java21, nodejs22, php83, ruby33 …), which appcfg.py could not know.
var currentRuntime = lazyre.New(`^(python3|go1|java|nodejs|php|ruby)[0-9]+$`)

func knownRuntime(r string) bool { return legacyRuntimes[r] || currentRuntime.MatchString(r) }
