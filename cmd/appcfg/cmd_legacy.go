package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/bulkload"
	"github.com/appcfg/appcfg/skipfiles"
	"github.com/appcfg/appcfg/validate"
)

// legacyCommands are appcfg.py's remaining commands: the ones kept
// (resource_limits_info, create_bulkloader_config, backends as services)
// and the ones refused on purpose (docs/compat.md).
func legacyCommands(io stdio) []*cli.Command {
	managedVMs := refusedError{
		why:     "it managed Managed VMs instances, which Google shut down in 2018 and no host runs any more",
		instead: "on the App Engine flexible environment use `gcloud app instances ssh` (debug) or `gcloud app instances disable-debug`",
	}
	return []*cli.Command{
		downloadAppCommand(io),
		resourceLimitsCommand(io),
		createBulkloaderConfigCommand(io),
		backendsCommand(io),
		refusedCommand("debug", managedVMs, &cli.StringFlag{Name: "instance", Aliases: []string{"I"}}),
		refusedCommand("lock", managedVMs, &cli.StringFlag{Name: "instance", Aliases: []string{"I"}}),
		refusedCommand("prepare_vm_runtime", managedVMs),
	}
}

// refusedCommand is a command appcfg.py had that no host supports any more.
// It accepts the command's options, so the refusal, not a usage error, is
// what a script sees.
func refusedCommand(name string, e refusedError, flags ...cli.Flag) *cli.Command {
	e.what = "appcfg " + name
	return &cli.Command{
		Name:   name,
		Usage:  "refused on purpose: " + e.why,
		Hidden: true,
		Flags:  flags,
		Action: func(*cli.Context) error { return e },
	}
}

func resourceLimitsCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "resource_limits_info",
		Usage:     "print the limits the host puts on a version's files",
		ArgsUsage: "[DIR]",
		Action: action(io, func(c *cli.Context) (globals, error) {
			g, err := readGlobals(c)
			if err == nil && c.NArg() > 1 {
				err = usagef("Expected a single <directory> argument after 'resource_limits_info'.")
			}
			return g, err
		}, runResourceLimitsInfo),
	}
}

// runResourceLimitsInfo prints the limits the host puts on a version's
// files, as appcfg.py's resource_limits_info did.
func runResourceLimitsInfo(ctx context.Context, g globals, d deps) error {
	io := d.io
	return d.onHost(ctx, g, func(_ context.Context, b backend.Backend) error {
		p := b.Properties()
		// The limits update applies (selection.go): the host's, else
		// App Engine's.
		file := int64(skipfiles.DefaultMaxFileSize)
		if p.MaxBlobSize > 0 {
			file = p.MaxBlobSize
		}
		total := fmt.Sprint(p.MaxVersionSize)
		if p.MaxVersionSize == 0 {
			total = "0 (no limit on this host)"
		}
		res := map[string]int64{"max_blob_size": file, "max_file_count": skipfiles.DefaultMaxFiles, "max_file_size": file,
			"max_files_to_clone": 100, "max_total_file_size": p.MaxVersionSize}
		return emit(io, g, res, func() {
			// As appcfg.py printed them: sorted key: value lines.
			fmt.Fprintf(io.out, "max_blob_size: %d\nmax_file_count: %d\nmax_file_size: %d\nmax_files_to_clone: 100\nmax_total_file_size: %s\n",
				file, skipfiles.DefaultMaxFiles, file, total)
		})
	})
}

func createBulkloaderConfigCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "create_bulkloader_config",
		Usage:     "write a draft bulkloader.yaml for the kinds and properties the host's datastore holds",
		ArgsUsage: "[DIR]  (or -A APP_ID) --filename bulkloader.yaml",
		Flags: append(bulkloadFlags(),
			&cli.StringFlag{Name: "result_db_filename", Usage: "legacy result database (accepted; not used)"}),
		Action: action(io, bulkloadOptionsFrom, runCreateBulkloaderConfig),
	}
}

// runCreateBulkloaderConfig writes a draft bulkloader.yaml for the kinds
// and properties the host's datastore holds.
func runCreateBulkloaderConfig(ctx context.Context, opts bulkloadOptions, d deps) error {
	g, io := opts.globals, d.io
	app, err := bulkloadApp(ctx, io, g, opts.args, opts.url)
	if err != nil {
		return err
	}
	out := opts.bulk.Filename
	if out == "" {
		return usagef("Option 'filename' is required.")
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s: output file exists: create_bulkloader_config never overwrites; remove it or choose another --filename", out)
	}
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		ents, err := backend.As[backend.Entities](b, "entities")
		if err != nil {
			return err
		}
		doc, err := bulkload.DraftConfig(ctx, ents, app, opts.bulk.Namespace)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(out, doc); err != nil {
			return err
		}
		return emit(io, g, map[string]string{"app": app, "file": out}, func() {
			fmt.Fprintf(io.out, "Wrote %s: a draft for the kinds of %s; review its transforms, then load with upload_data --config_file %s.\n", out, app, out)
		})
	})
}

// backendsVerbs are the subcommands of appcfg.py's backends command.
var backendsVerbs = map[string]bool{"list": true, "update": true, "rollback": true, "start": true, "stop": true, "delete": true, "configure": true}

func backendsCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "backends",
		Usage:     "deprecated: manage backends.yaml entries, deployed as services",
		ArgsUsage: "[DIR] [list | update [NAME] | rollback NAME | start NAME | stop NAME | delete NAME | configure NAME]",
		Description: "App Engine replaced backends with services (modules) in 2014, and appcfg.py 1.9.91\n" +
			"removed this command. Here each entry of DIR's backends.yaml is a service of the same\n" +
			"name: update deploys the app as that service with the entry's class and instances\n" +
			"(basic scaling when its options say dynamic, else manual scaling); rollback, start, stop\n" +
			"and delete act on that service's version. Move each entry into a service yaml file.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"dry_run"}, Usage: "show the plan and change nothing"},
			&cli.BoolFlag{Name: "no-promote", Aliases: []string{"no_promote"}, Usage: "create the version but route no traffic to it"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "parallel uploads"},
		}, skipFilesFlags()...),
		Action: action(io, backendsOptionsFrom, runBackends),
	}
}

// backendsOptions are the backends command's options: update's, with the
// directory, the verb and the backend's name.
type backendsOptions struct {
	updateOptions
	dir, verb, name string
}

func backendsOptionsFrom(c *cli.Context) (backendsOptions, error) {
	uo, err := updateOptionsFrom(c)
	if err != nil {
		return backendsOptions{}, err
	}
	// The verb may come before or after DIR (both were seen).
	dir, verb, name := "", "", ""
	for _, a := range c.Args().Slice() {
		st, err := os.Stat(a)
		switch {
		case verb == "" && backendsVerbs[a]:
			verb = a
		case dir == "" && name == "" && err == nil && st.IsDir():
			dir = a
		case name == "" && verb != "":
			name = a
		default:
			return backendsOptions{}, usagef("Expected: backends [DIR] VERB [NAME], not %q", strings.Join(c.Args().Slice(), " "))
		}
	}
	dir, verb = firstNonEmpty(dir, "."), firstNonEmpty(verb, "list")
	if verb != "list" && verb != "update" && name == "" {
		return backendsOptions{}, usagef("Expected a <backend> argument after 'backends %s'.", verb)
	}
	return backendsOptions{updateOptions: uo, dir: dir, verb: verb, name: name}, nil
}

// runBackends does the verb to the backends.yaml entries of opts.dir, each
// deployed as the service of its name.
func runBackends(ctx context.Context, opts backendsOptions, deps deps) error {
	g, io, dir, verb, name := opts.globals, deps.io, opts.dir, opts.verb, opts.name
	fmt.Fprintln(io.err, "Note: backends are deprecated (appcfg.py 1.9.91 removed them): each backends.yaml entry is deployed as a service of the same name; move it into a service yaml file.")
	d, err := loadAppDir(ctx, io, g, dir, true)
	if err != nil {
		return err
	}
	entries, err := loadBackends(d.dir)
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		return emit(io, g, entries, func() {
			for _, e := range entries {
				fmt.Fprintf(io.out, "%s: class %s, %d instance(s)%s\n", e.Name, firstNonEmpty(e.Class, "B2"), instances(e), optionsNote(e))
			}
		})
	case "update", "configure":
		var sel []*appconfig.BackendEntry
		for _, e := range entries {
			if name == "" || e.Name == name {
				sel = append(sel, e)
			}
		}
		if len(sel) == 0 {
			return fmt.Errorf("Backend '%s' not found in backends.yaml.", name)
		}
		if verb == "configure" {
			msg := fmt.Sprintf("The settings of backend %s take effect with `appcfg backends %s update %s`.", name, dir, name)
			return emit(io, g, messageResult{Message: msg}, func() { fmt.Fprintln(io.out, msg) })
		}
		return deps.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
			var results []*updateResult
			for _, e := range sel {
				start := deps.now()
				res, err := deployService(ctx, opts.updateOptions, deps, b, asService(d, e), nil)
				if err != nil {
					return err
				}
				results = append(results, newUpdateResult(res, b, start))
			}
			return emit(io, g, results, func() {
				for _, r := range results {
					printUpdateResult(io, g, r.Result)
				}
			})
		})
	case "rollback":
		g.module, g.version = name, d.version
		return rollbackOne(ctx, deps, g, d.appYAML)
	}
	return deps.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		vs, err := backend.As[backend.Versions](b, "versions")
		if err != nil {
			return err
		}
		switch verb {
		case "delete":
			err = vs.DeleteVersion(ctx, d.appID, name, d.version)
		case "start":
			err = vs.SetServingStatus(ctx, d.appID, name, d.version, backend.Serving)
		default:
			err = vs.SetServingStatus(ctx, d.appID, name, d.version, backend.Stopped)
		}
		if err != nil {
			return fmt.Errorf("backend %s (service %s, version %s): %w", name, name, d.version, err)
		}
		msg := fmt.Sprintf("Backend %s: %s done on version %s of service %s.", name, verb, d.version, name)
		return emit(io, g, messageResult{Message: msg}, func() { fmt.Fprintln(io.out, msg) })
	})
}

// loadBackends reads the backends.yaml of dir.
func loadBackends(dir string) ([]*appconfig.BackendEntry, error) {
	path := validate.FindFile(dir, "backends")
	if path == "" {
		return nil, fmt.Errorf("%s has no backends.yaml: there are no backends to act on (services are deployed with update)", dir)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Backends []*appconfig.BackendEntry `yaml:"backends"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Backends) == 0 {
		return nil, errors.New(path + ": No backends found in backends.yaml.")
	}
	for _, e := range doc.Backends {
		if e == nil || !appconfig.ValidServiceID(e.Name) {
			return nil, fmt.Errorf("%s: every backend needs a name of lowercase letters, digits and hyphens", path)
		}
	}
	return doc.Backends, nil
}

func instances(e *appconfig.BackendEntry) int64 {
	if e.Instances != nil && *e.Instances > 0 {
		return *e.Instances
	}
	return 1
}

func dynamic(e *appconfig.BackendEntry) bool {
	return (e.Dynamic != nil && *e.Dynamic) || strings.Contains(e.Options, "dynamic")
}

func optionsNote(e *appconfig.BackendEntry) string {
	if e.Options == "" {
		return ""
	}
	return ", options " + e.Options
}

// asService is the app of d deployed as the service a backend entry
// becomes, as App Engine converted backends into modules.
func asService(d *appDir, e *appconfig.BackendEntry) *appDir {
	app := *d.app
	app.Service, app.Module = e.Name, ""
	app.InstanceClass = strings.ToUpper(firstNonEmpty(e.Class, "B2"))
	app.AutomaticScaling, app.ManualScaling, app.BasicScaling = nil, nil, nil
	n := fmt.Sprint(instances(e))
	if dynamic(e) {
		app.BasicScaling = &appconfig.BasicScaling{MaxInstances: n}
	} else {
		app.ManualScaling = &appconfig.ManualScaling{Instances: n}
	}
	cp := *d
	cp.app, cp.service, cp.companions = &app, e.Name, nil
	return &cp
}
