package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/validate"
)

// versionCommands are the legacy commands that manage deployed versions.
func versionCommands(io stdio) []*cli.Command {
	return []*cli.Command{
		{
			Name:      "list_versions",
			Usage:     "list the versions of every service of an application",
			ArgsUsage: "[DIR]  (or -A APP_ID)",
			Action:    action(io, versionsOptionsFrom, runListVersions),
		},
		{
			Name:      "set_default_version",
			Usage:     "route all traffic of a service to a version",
			ArgsUsage: "[DIR]  (or -A APP_ID -V VERSION [-M SERVICE[,SERVICE...]], or --previous)",
			Flags:     []cli.Flag{&cli.BoolFlag{Name: "previous", Usage: "route the traffic back to the version that was the default before the current one (the one-line revert)"}},
			Action: action(io, func(c *cli.Context) (versionsOptions, error) {
				opts, err := versionsOptionsFrom(c)
				opts.previous = c.Bool("previous")
				return opts, err
			}, runSetDefaultVersion),
		},
		setTrafficCmd(io),
		{
			Name:      "migrate_traffic",
			Usage:     "move the traffic of the default service to a version gradually",
			ArgsUsage: "[DIR]  (or -A APP_ID -V VERSION)",
			Action:    action(io, versionsOptionsFrom, runMigrateTraffic),
		},
		{
			Name:      "delete_version",
			Usage:     "delete a version that receives no traffic",
			ArgsUsage: "-A APP_ID -V VERSION [-M SERVICE]",
			Action:    action(io, versionsOptionsFrom, runDeleteVersion),
		},
		servingCommand(io, "start_module_version", "start serving a stopped version", backend.Serving),
		servingCommand(io, "stop_module_version", "stop a version from serving", backend.Stopped),
	}
}

// versionsOptions are the options of the commands that manage versions.
type versionsOptions struct {
	globals
	args []string // the DIR argument, if any
	// status is what start_module_version and stop_module_version set.
	status backend.ServingStatus
	// previous: set_default_version --previous (the revert).
	previous bool
	// split and splitBy are set_traffic's --splits and --split_by.
	split   map[string]float64
	splitBy backend.SplitBy
}

func versionsOptionsFrom(c *cli.Context) (versionsOptions, error) {
	g, err := readGlobals(c)
	return versionsOptions{globals: g, args: c.Args().Slice()}, err
}

// ident is the application, service and version a command acts on.
type ident struct{ app, service, version string }

// resolveIdent finds the identity from a DIR argument or from -A/-M/-V, as
// the legacy directory-or-flags commands do.
func resolveIdent(ctx context.Context, io stdio, opts versionsOptions, needVersion bool) (ident, error) {
	g, args := opts.globals, opts.args
	if len(args) == 0 && (g.app() == "" || (needVersion && g.version == "")) && validate.FindFile(".", "app") != "" {
		args = []string{"."} // the app in the current directory, as the other commands
	}
	switch {
	case len(args) > 1:
		return ident{}, usagef("Expected 1 argument, not %d.", len(args))
	case len(args) == 1:
		d, err := loadAppDir(ctx, io, g, args[0], false)
		if err != nil {
			return ident{}, err
		}
		if needVersion && d.version == "" {
			return ident{}, usagef("%s has no version: set version: or give -V", d.appYAML)
		}
		return ident{d.appID, d.service, d.version}, nil
	case g.app() == "":
		return ident{}, usagef("%s [DIR]: the current directory has no app.yaml; give the app's directory, or -A APP_ID", g.command)
	case needVersion && g.version == "":
		return ident{}, usagef("%s [DIR]: give the app's directory (the current one has no app.yaml), or both -A APP_ID and -V VERSION", g.command)
	}
	return ident{g.app(), firstNonEmpty(g.module, "default"), g.version}, nil
}

// runListVersions prints the versions of every service of the app.
func runListVersions(ctx context.Context, opts versionsOptions, d deps) error {
	id, err := resolveIdent(ctx, d.io, opts, false)
	if err != nil {
		return err
	}
	return d.onHost(ctx, opts.globals, func(ctx context.Context, b backend.Backend) error {
		return listVersions(ctx, d.io, opts.globals, b, id.app)
	})
}

// runDeleteVersion deletes -V of -M (default) of -A, then frees the
// contents no version uses any more.
func runDeleteVersion(ctx context.Context, opts versionsOptions, d deps) error {
	g, io := opts.globals, d.io
	if g.app() == "" || g.version == "" || len(opts.args) > 0 {
		return usagef("Expected an <app_id> argument, a <version> argument and an optional <module> argument.")
	}
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		vs, err := backend.As[backend.Versions](b, "versions")
		if err != nil {
			return err
		}
		service := firstNonEmpty(g.module, "default")
		if err := vs.DeleteVersion(ctx, g.app(), service, g.version); err != nil {
			return fmt.Errorf("deleting version %s of service %s: %w", g.version, service, err)
		}
		res := versionResult{Action: "delete_version", App: g.app(), Services: []string{service}, Version: g.version}
		res.Freed = collectAfterDelete(ctx, io, b, g.app())
		return emit(io, g, res, func() {
			fmt.Fprintf(io.out, "Deleted version %s of service %s of app %s.\n", g.version, service, g.app())
			if c := res.Freed; c != nil {
				fmt.Fprintf(io.out, "Freed %d content(s) no version uses any more (%s).\n", c.Files, human.Size(c.Bytes))
				if c.Kept > 0 {
					fmt.Fprintf(io.out, "Kept %d unused content(s) for a deploy of %s in flight; appcfg verify --gc frees them later.\n", c.Kept, g.app())
				}
			}
		})
	})
}

// listVersions prints every version of app (docs/schemas/list_versions.json:
// the array of versions, each with its share of traffic).
func listVersions(ctx context.Context, io stdio, g globals, b backend.Backend, app string) error {
	vs, err := backend.As[backend.Versions](b, "versions")
	if err != nil {
		return err
	}
	list, err := vs.ListVersions(ctx, app, "")
	if err != nil {
		return fmt.Errorf("listing versions of %s: %w", app, err)
	}
	return emit(io, g, list, func() { printVersions(io, app, list) })
}

func printVersions(io stdio, app string, list []backend.Version) {
	if len(list) == 0 {
		fmt.Fprintf(io.out, "No versions uploaded for app: %s.\n", app)
		return
	}
	// As the legacy YAML reply: service → versions, the default service first.
	byService := map[string][]backend.Version{}
	var services []string
	for _, v := range list {
		if _, ok := byService[v.Service]; !ok {
			services = append(services, v.Service)
		}
		byService[v.Service] = append(byService[v.Service], v)
	}
	sort.SliceStable(services, func(i, j int) bool {
		return services[i] == "default" || (services[j] != "default" && services[i] < services[j])
	})
	for _, s := range services {
		fmt.Fprintf(io.out, "%s:\n", s)
		for _, v := range byService[s] {
			var notes []string
			if v.Traffic > 0 {
				notes = append(notes, fmt.Sprintf("traffic %s%%", trimFloat(v.Traffic*100)))
			}
			if v.ServingStatus == backend.Stopped {
				notes = append(notes, "stopped")
			}
			line := "- " + v.ID
			if len(notes) > 0 {
				line += "  # " + strings.Join(notes, ", ")
			}
			fmt.Fprintln(io.out, line)
		}
	}
}

// versionResult is the result of the commands that change one version or
// route traffic (docs/schemas/version_change.json).
type versionResult struct {
	Action   string   `json:"action"` // "set_default_version", "delete_version", "start_module_version" …
	App      string   `json:"app"`
	Services []string `json:"services"`
	Version  string   `json:"version"`
	// Traffic is the version's share after the change (routing commands).
	Traffic *float64 `json:"traffic,omitempty"`
	// ServingStatus is the version's status after start/stop.
	ServingStatus backend.ServingStatus `json:"serving_status,omitempty"`
	// Freed is what a deletion freed on a host that keeps the contents
	// itself (the local store).
	Freed *backend.Collected `json:"freed,omitempty"`
	// Split and SplitBy are the split set_traffic made.
	Split   map[string]float64 `json:"split,omitempty"`
	SplitBy string             `json:"split_by,omitempty"`
	// Previous says the version was found as the previous default
	// (set_default_version --previous).
	Previous bool `json:"previous,omitempty"`
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

// runSetDefaultVersion routes all traffic of each service (-M, a
// comma-separated list) to the version.
func runSetDefaultVersion(ctx context.Context, opts versionsOptions, d deps) error {
	return setTraffic(ctx, opts, d, false)
}

// runMigrateTraffic moves the default service's traffic to the version
// gradually.
func runMigrateTraffic(ctx context.Context, opts versionsOptions, d deps) error {
	return setTraffic(ctx, opts, d, true)
}

func setTraffic(ctx context.Context, opts versionsOptions, d deps, migrate bool) error {
	g, io := opts.globals, d.io
	previous := !migrate && opts.previous
	if previous && g.version != "" {
		return usagef("set_default_version: give -V VERSION or --previous, not both")
	}
	id, err := resolveIdent(ctx, io, opts, !previous)
	if err != nil {
		return err
	}
	services := []string{id.service}
	if g.module != "" {
		services = strings.Split(g.module, ",")
	}
	if migrate && (len(services) != 1 || services[0] != "default") {
		return usagef("migrate_traffic does not support non-default module at this time.")
	}
	if previous && len(services) != 1 {
		return usagef("set_default_version --previous reverts one service at a time: give one -M SERVICE")
	}
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		vs, err := backend.As[backend.Versions](b, "versions")
		if err != nil {
			return err
		}
		if previous {
			if id.version, err = backend.PreviousDefault(ctx, b, id.app, services[0]); err != nil {
				return fmt.Errorf("finding the previous default version: %w", err)
			}
			g.statusf(io, "The previous default version of service %s is %s.", services[0], id.version)
		}
		for _, s := range services {
			if s == "default" {
				g.statusf(io, "Setting default version of application %s to %s.", id.app, id.version)
			} else {
				g.statusf(io, "Setting default version of module %s of application %s to %s.", s, id.app, id.version)
			}
			if err := vs.SetTraffic(ctx, id.app, s, map[string]float64{id.version: 1}, migrate); err != nil {
				return fmt.Errorf("routing service %s to version %s: %w", s, id.version, err)
			}
		}
		all := 1.0
		return emit(io, g, versionResult{Action: g.command, App: id.app, Services: services, Version: id.version, Traffic: &all, Previous: previous}, nil)
	})
}

func servingCommand(io stdio, name, usage string, status backend.ServingStatus) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "[DIR]  (or -A APP_ID -M SERVICE -V VERSION)",
		Action: action(io, func(c *cli.Context) (versionsOptions, error) {
			opts, err := versionsOptionsFrom(c)
			opts.status = status
			return opts, err
		}, runSetServing),
	}
}

// runSetServing starts or stops (opts.status) serving a version.
func runSetServing(ctx context.Context, opts versionsOptions, d deps) error {
	g, io, status := opts.globals, d.io, opts.status
	if len(opts.args) == 0 && (g.app() == "" || g.version == "") {
		return usagef("Expected at least one <file> argument or the --application, --module and --version flags to be set.")
	}
	id, err := resolveIdent(ctx, io, opts, true)
	if err != nil {
		return err
	}
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		vs, err := backend.As[backend.Versions](b, "versions")
		if err != nil {
			return err
		}
		if err := vs.SetServingStatus(ctx, id.app, id.service, id.version, status); err != nil {
			return fmt.Errorf("version %s of service %s: %w", id.version, id.service, err)
		}
		return emit(io, g, versionResult{Action: g.command, App: id.app, Services: []string{id.service}, Version: id.version, ServingStatus: status}, func() {
			fmt.Fprintf(io.out, "Version %s of service %s of app %s is now %s.\n", id.version, id.service, id.app, strings.ToLower(string(status)))
		})
	})
}

// collectAfterDelete frees the contents no version of app names any more,
// where the host keeps them itself (the local store), and returns what it
// freed (nil when nothing was collected). The version is deleted whatever
// happens here: a failure is only worth a warning and a way to retry.
func collectAfterDelete(ctx context.Context, io stdio, b backend.Backend, app string) *backend.Collected {
	gc, ok := b.(backend.BlobCollector)
	if !ok {
		return nil
	}
	c, err := gc.CollectBlobs(ctx, app)
	if err != nil {
		fmt.Fprintf(io.err, "appcfg: warning: the version was deleted, but freeing its unused contents failed (appcfg verify --gc retries): %v\n", err)
		return nil
	}
	return &c
}
