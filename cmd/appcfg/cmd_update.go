package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/upload"
	"github.com/appcfg/appcfg/validate"
	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

func updateCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "update",
		Usage:     "deploy the application in DIR as a new version (and push its index, cron, queue, dispatch and dos files)",
		ArgsUsage: "[DIR]",
		Description: "Validates the configuration, selects the files to upload (see ls_files), hashes them,\n" +
			"uploads only the contents the host lacks, creates the version, and routes all traffic of\n" +
			"its service to it unless --no-promote. An interrupted update is resumed by running it again:\n" +
			"contents already sent are never sent twice.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"dry_run"}, Usage: "show the plan (files, bytes, what would be uploaded) and change nothing on the host"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan or the result as JSON on stdout"},
			&cli.BoolFlag{Name: "no-promote", Aliases: []string{"no_promote"}, Usage: "create the version but route no traffic to it"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "parallel uploads (default: what the backend handles well)"},
		}, skipFilesFlags()...),
		Action: func(c *cli.Context) error {
			g, err := readGlobals(c)
			if err != nil {
				return err
			}
			dir, err := dirArg(c, "update")
			if err != nil {
				return err
			}
			return runUpdate(c, io, g, dir)
		},
	}
}

// dirArg returns the single optional DIR argument (default ".").
func dirArg(c *cli.Context, action string) (string, error) {
	switch c.NArg() {
	case 0:
		return ".", nil
	case 1:
		return c.Args().First(), nil
	}
	return "", usagef("Expected a single <directory> argument after '%s'.", action)
}

func runUpdate(c *cli.Context, io stdio, g globals, dir string) (err error) {
	ctx := c.Context
	asJSON := c.Bool("json")
	d, err := loadAppDir(ctx, io, g, dir, true)
	if err != nil {
		return err
	}
	g.statusf(io, "Application: %s; service: %s; version: %s", d.appID, d.service, d.version)
	cfg, err := yaml.Marshal(d.app)
	if err != nil {
		return fmt.Errorf("serialising %s: %w", d.appYAML, err)
	}
	opts := upload.Options{
		App: d.appID, Service: d.service, Version: d.version, Runtime: d.app.Runtime,
		Config: cfg,
		DryRun: c.Bool("dry-run"), NoPromote: c.Bool("no-promote"),
		HashWorkers: runtime.NumCPU(), UploadWorkers: c.Int("jobs"),
		Cache: hashcache.Open(cachePath(d.dir)),
		Owner: deployOwner(), Stale: staleOwner,
	}
	if err := addCompanions(&opts, d); err != nil {
		return err
	}

	b, err := openBackend(ctx, g)
	if err != nil {
		return err
	}
	defer closeBackend(b, &err)
	g.statusf(io, "Host: %s", b.Location())
	files, err := selectUploadFiles(ctx, io, g, c, d, b.Properties())
	if err != nil {
		return err
	}
	opts.Files = files

	rep := newReporter(io, g, asJSON)
	res, err := upload.Deploy(ctx, b, opts, rep)
	finish(rep)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(io.err, "Interrupted. Run the same update again to resume: contents already sent are not sent again.")
			return errReported
		}
		var le *backend.LockedError
		if errors.As(err, &le) {
			return fmt.Errorf("%w\nWait for that deploy to finish, or run `appcfg rollback %s` to release the lock now", err, dir)
		}
		return err
	}
	if asJSON {
		enc := json.NewEncoder(io.out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printUpdateResult(io, g, res)
	return nil
}

func printUpdateResult(io stdio, g globals, res *upload.Result) {
	if res.DryRun {
		fmt.Fprintf(io.out, "Dry run: version %s of service %s of app %s would have %d files (%s, %d distinct contents).\n",
			res.Version, res.Service, res.App, res.Files, humanize.IBytes(uint64(res.Bytes)), res.Blobs)
		fmt.Fprintf(io.out, "The host lacks %d of them (%s); they would be uploaded:\n", res.Missing, humanize.IBytes(uint64(res.MissingBytes)))
		for _, p := range res.Uploaded {
			fmt.Fprintf(io.out, "  %s\n", p)
		}
		fmt.Fprintln(io.out, "Nothing was changed on the host.")
		return
	}
	switch {
	case res.Missing == 0:
		g.statusf(io, "Uploaded 0 of %d files: the host had every one.", res.Files)
	case res.Missing == res.Blobs:
		g.statusf(io, "Uploaded %d of %d files (%s).", res.Missing, res.Files, humanize.IBytes(uint64(res.MissingBytes)))
	default:
		g.statusf(io, "Uploaded %d of %d files (%s); the host had the rest.", res.Missing, res.Files, humanize.IBytes(uint64(res.MissingBytes)))
	}
	for _, p := range res.Pushed {
		g.statusf(io, "Pushed %s.", p)
	}
	where := ""
	if res.Service != "default" {
		where = ", module: " + res.Service
	}
	fmt.Fprintf(io.out, "Completed update of app: %s%s, version: %s\n", res.App, where, res.Version)
	if !res.Promoted {
		fmt.Fprintf(io.out, "The version receives no traffic (--no-promote); route it with `appcfg set_default_version -A %s -V %s`.\n", res.App, res.Version)
	}
}

// cachePath is where the stat cache of the app in dir lives: in the user
// cache dir, keyed by the absolute path, so the app tree stays untouched.
func cachePath(dir string) string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		if home, err := os.UserHomeDir(); err == nil {
			base = filepath.Join(home, ".cache")
		} else {
			base = os.TempDir()
		}
	}
	sum := sha1.Sum([]byte(dir))
	return filepath.Join(base, "appcfg", "hashes", hex.EncodeToString(sum[:8]))
}

// addCompanions adds the valid companion files of d to opts, in the legacy
// order of pushes.
func addCompanions(opts *upload.Options, d *appDir) error {
	if r, ok := d.companions[validate.KindIndex]; ok {
		if defs, ok := r.Config.(*appconfig.IndexDefinitions); ok && defs != nil {
			opts.Indexes = defs
		}
	}
	for _, k := range []struct {
		kind validate.Kind
		cfg  backend.ConfigKind
	}{{validate.KindCron, backend.ConfigCron}, {validate.KindQueue, backend.ConfigQueue},
		{validate.KindDOS, backend.ConfigDOS}, {validate.KindDispatch, backend.ConfigDispatch}} {
		r, ok := d.companions[k.kind]
		if !ok {
			continue
		}
		doc, err := yaml.Marshal(r.Config)
		if err != nil {
			return fmt.Errorf("serialising %s: %w", r.Path, err)
		}
		opts.Configs = append(opts.Configs, upload.Config{Kind: k.cfg, File: r.Path, Doc: doc})
	}
	return nil
}
