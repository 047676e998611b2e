package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/bulkload"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/yaml11"
	"github.com/appcfg/appcfg/validate"
)

// bulkloadCommands are upload_data and download_data (docs/bulkload.md).
func bulkloadCommands(io stdio) []*cli.Command {
	return []*cli.Command{
		{
			Name:      "upload_data",
			Usage:     "load entities from a file (csv/simplexml through a bulkloader.yaml, or a JSON Lines dump)",
			ArgsUsage: "[DIR]  (or -A APP_ID) --filename FILE [--config_file bulkloader.yaml --kind KIND]",
			Flags: append(bulkloadFlags(),
				&cli.BoolFlag{Name: "has_header", Usage: "skip one more input record (legacy; with a config the connector already skips the header)"},
				&cli.StringFlag{Name: "loader_opts", Usage: "legacy loader options (accepted, part of the progress signature)"},
			),
			Action: action(io, bulkloadOptionsFrom, runBulkload),
		},
		{
			Name:      "download_data",
			Usage:     "export entities to a file (through a bulkloader.yaml, or as a JSON Lines dump)",
			ArgsUsage: "[DIR]  (or -A APP_ID) --filename FILE [--config_file bulkloader.yaml --kind KIND]",
			Flags: append(bulkloadFlags(),
				&cli.StringFlag{Name: "exporter_opts", Usage: "legacy exporter options (accepted)"},
				&cli.StringFlag{Name: "result_db_filename", Usage: "result database for resuming (default bulkloader-results-YYYYMMDD.HHMMSS.sql3; 'skip' disables)"},
			),
			Action: action(io, func(c *cli.Context) (bulkloadOptions, error) {
				opts, err := bulkloadOptionsFrom(c)
				opts.download = true
				return opts, err
			}, runBulkload),
		},
	}
}

func bulkloadFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "filename", Usage: "input (upload) or output (download, must not exist) file"},
		&cli.StringFlag{Name: "kind", Usage: "entity kind (selects the config's transformer; without a config: the kind to dump or restore, all when empty)"},
		&cli.StringFlag{Name: "config_file", Usage: "bulkloader.yaml; without it, whole entities are dumped/restored as JSON Lines"},
		&cli.StringFlag{Name: "namespace", Usage: "datastore namespace"},
		&cli.IntFlag{Name: "batch_size", Value: 10, Usage: "records per batch (one progress row, one request)"},
		&cli.IntFlag{Name: "num_threads", Value: 10, Usage: "batches sent at once"},
		&cli.Float64Flag{Name: "rps_limit", Value: 20, Usage: "entities per second (0: no limit; the local store has none unless given)"},
		&cli.Float64Flag{Name: "bandwidth_limit", Value: 250000, Usage: "bytes per second (0: no limit; the local store has none unless given)"},
		&cli.Float64Flag{Name: "http_limit", Value: 8, Usage: "requests per second (0: no limit; the local store has none unless given)"},
		&cli.StringFlag{Name: "db_filename", Usage: "progress database for resuming (default bulkloader-progress-YYYYMMDD.HHMMSS.sql3; 'skip' disables)"},
		&cli.BoolFlag{Name: "dry_run", Usage: "read and convert everything, store nothing"},
		&cli.StringFlag{Name: "url", Usage: "remote_api URL (accepted for compatibility; the host is --backend)"},
		&cli.StringFlag{Name: "auth_domain", Usage: "accepted for compatibility; unused"},
		&cli.StringFlag{Name: "log_file", Usage: "accepted for compatibility; messages go to stderr"},
	}
}

// bulkloadApp is the application a bulk command acts on: the location's
// project or -A (target.go), else the
// app of the DIR argument, else the app --url names (APP.appspot.com, as
// appcfg.py asked the remote_api there), else the app in the current
// directory (a --url on localhost pointed at the dev server running it).
func bulkloadApp(ctx context.Context, io stdio, g globals, args []string, remoteURL string) (string, error) {
	switch {
	case len(args) > 1:
		return "", usagef("Expected either -A APP_ID or a single <directory> argument.")
	case g.app() != "":
		return g.app(), nil // the --backend location's project, else -A (target.go)
	case len(args) == 1:
		d, err := loadAppDir(ctx, io, g, args[0], false)
		if err != nil {
			return "", err
		}
		return d.appID, nil
	}
	if app := appFromURL(remoteURL); app != "" {
		return app, nil
	}
	if validate.FindFile(".", "app") != "" {
		d, err := loadAppDir(ctx, io, g, ".", false)
		if err != nil {
			return "", err
		}
		return d.appID, nil
	}
	return "", usagef("Expected either -A APP_ID or a single <directory> argument.")
}

// appFromURL is the app of a remote_api URL on appspot.com: the last label
// before the domain (VERSION.APP.appspot.com and VERSION-dot-APP too).
func appFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	rest, ok := strings.CutSuffix(u.Hostname(), ".appspot.com")
	if !ok {
		return ""
	}
	rest = rest[strings.LastIndex(rest, ".")+1:]
	if i := strings.LastIndex(rest, "-dot-"); i >= 0 {
		rest = rest[i+len("-dot-"):]
	}
	return rest
}

// bulkloadOptions are the options of upload_data and download_data.
type bulkloadOptions struct {
	globals
	args     []string // the DIR argument, if any
	url      string   // the legacy --url, for the application id
	download bool     // download_data
	// bulk is what the flags say of the transfer; the application and
	// the config are filled in by runBulkload.
	bulk       bulkload.Options
	configFile string // --config_file
	resultDB   string // download_data's --result_db_filename
	// limitsGiven names the rate limit flags given on the command line:
	// on the local store only those hold.
	limitsGiven map[string]bool
}

func bulkloadOptionsFrom(c *cli.Context) (bulkloadOptions, error) {
	g, err := readGlobals(c)
	if err != nil {
		return bulkloadOptions{}, err
	}
	opts := bulkloadOptions{globals: g, args: c.Args().Slice(), url: c.String("url"),
		configFile: c.String("config_file"), resultDB: c.String("result_db_filename"), limitsGiven: map[string]bool{}}
	opts.bulk = bulkload.Options{
		App:            g.app(),
		Namespace:      c.String("namespace"),
		Kind:           c.String("kind"),
		Filename:       c.String("filename"),
		HasHeader:      c.Bool("has_header"),
		BatchSize:      c.Int("batch_size"),
		NumThreads:     c.Int("num_threads"),
		RPSLimit:       c.Float64("rps_limit"),
		BandwidthLimit: c.Float64("bandwidth_limit"),
		HTTPLimit:      c.Float64("http_limit"),
		DBFilename:     c.String("db_filename"),
		DryRun:         c.Bool("dry_run"),
		LoaderOpts:     c.String("loader_opts"),
		ExporterOpts:   c.String("exporter_opts"),
		Backend:        g.backend,
	}
	for _, name := range []string{"rps_limit", "bandwidth_limit", "http_limit"} {
		opts.limitsGiven[name] = c.IsSet(name)
	}
	return opts, nil
}

// runBulkload loads entities from a file into the host, or exports them to
// one (opts.download).
func runBulkload(ctx context.Context, bo bulkloadOptions, d deps) (err error) {
	g, io, download, o := bo.globals, d.io, bo.download, bo.bulk
	// A bulk transfer makes short-lived garbage at a high rate while its
	// live heap stays bounded (the batches in flight, about 20 MB):
	// collecting at 5x the live heap instead of 2x cut a 1,000,000-row
	// load's time by a sixth, and a soft limit of 64 MiB keeps the peak
	// where a short load's is. The limit was 128 MiB: every page the larger
	// heap first touches is a page fault, ~11 µs on a VM, and the million
	// rows' 32,000 faults became 18,000 for twice the collections, each a
	// few milliseconds (peak RSS 143 MB → 82 MB). Unless the user set GOGC
	// or GOMEMLIMIT.
	defer paceGC(400, 64<<20)()
	if o.App, err = bulkloadApp(ctx, io, g, bo.args, bo.url); err != nil {
		return err
	}
	if o.Filename == "" {
		return usagef("Option 'filename' is required.")
	}
	if o.BatchSize < 1 {
		return usagef("batch_size must be 1 or larger.")
	}
	if backend.ValidNamespace(o.Namespace) != nil { // Datastore's syntax: one place for it
		return usagef("namespace parameter %q: up to 100 letters, digits, '.', '-' and '_'", o.Namespace)
	}
	if cf := bo.configFile; cf != "" {
		if !strings.HasSuffix(cf, ".yaml") && !strings.HasSuffix(cf, ".yml") {
			return fmt.Errorf("%s: only the bulkloader.yaml config form is supported (a Python config module cannot be run)", cf)
		}
		if o.Config, err = bulkload.LoadConfig(cf); err != nil {
			if ce := (*bulkload.ConfigError)(nil); errors.As(err, &ce) {
				githubAnnotate(io, g, ce.Problems)
			}
			return err
		}
		if err := bulkloadWarnings(io, g, o); err != nil {
			return err
		}
	}
	if !download && !o.DryRun && o.DBFilename == "" {
		o.DBFilename = "bulkloader-progress-" + d.now().Format("20060102.150405") + ".sql3"
	}
	autoResults := false // a result database named here, removed after success
	if download {
		o.ResultDBFilename = bo.resultDB
		if !o.DryRun && o.ResultDBFilename == "" {
			o.ResultDBFilename, autoResults = freshName("bulkloader-results-"+d.now().Format("20060102.150405"), ".sql3"), true
		}
	}
	rep := counting(newReporter(io, g, false), "entity")
	o.Progress = rep
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		if b.Properties().Local {
			// The legacy limits were made for remote_api; on this
			// machine they only throttle (20 entities/s), so they
			// hold here only when given.
			for name, limit := range map[string]*float64{"rps_limit": &o.RPSLimit, "bandwidth_limit": &o.BandwidthLimit, "http_limit": &o.HTTPLimit} {
				if !bo.limitsGiven[name] {
					*limit = 0
				}
			}
		}
		var ents backend.Entities
		if !o.DryRun {
			if ents, err = backend.As[backend.Entities](b, "entities"); err != nil {
				return err
			}
		}
		var sum bulkload.Summary
		if download {
			if o.ResultDBFilename != "" && o.ResultDBFilename != "skip" {
				g.statusf(io, "Result database: %s (rerun with --result_db_filename %s to resume)", o.ResultDBFilename, o.ResultDBFilename)
			}
			sum, err = bulkload.Download(ctx, ents, o)
			if err == nil && autoResults {
				// Only a resume needs it, and none will come.
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(o.ResultDBFilename + suffix)
				}
			}
		} else {
			if o.DBFilename != "" && o.DBFilename != "skip" {
				g.statusf(io, "Progress database: %s (rerun with --db_filename %s to resume)", o.DBFilename, o.DBFilename)
			}
			sum, err = bulkload.Upload(ctx, ents, o)
		}
		finish(rep)
		return reportBulkload(io, g, o, sum, err, download)
	})
}

// hasHeaderWithConfig is the warning for --has_header beside a config:
// appcfg.py skipped one more record then too (docs/bulkload.md), so
// appcfg does, and says so.
const hasHeaderWithConfig = "--has_header with --config_file skips one more record on top of the connector's own header handling (columns: from_header, skip_import_header_row), as appcfg.py did: the first record after it is not loaded. Drop --has_header unless that is meant."

// bulkloadWarnings prints the warnings of a bulk transfer through a config
// (the config's deliberate differences from the SDK, --has_header beside
// it) before anything is transferred; with --strict they are errors and
// the command stops there.
func bulkloadWarnings(io stdio, g globals, o bulkload.Options) error {
	ws := o.Config.Warnings
	if o.HasHeader {
		if g.strict {
			return usagef("%s (--strict makes this warning an error)", hasHeaderWithConfig)
		}
		fmt.Fprintln(io.err, "warning: "+hasHeaderWithConfig)
	}
	if len(ws) == 0 {
		return nil
	}
	githubAnnotate(io, g, ws) // errors with --strict
	if g.strict {
		yaml11.Harden(ws)
		return &bulkload.ConfigError{Problems: ws}
	}
	for _, p := range ws {
		fmt.Fprintln(io.err, p.String())
	}
	return nil
}

// reportBulkload prints the legacy summary and every failed record.
func reportBulkload(io stdio, g globals, o bulkload.Options, sum bulkload.Summary, err error, download bool) error {
	for _, f := range sum.Failures {
		fmt.Fprintf(io.err, "%s:%d: record %d: %v\n", o.Filename, f.Line, f.Record, f.Err)
	}
	if more := sum.Failed - len(sum.Failures); more > 0 {
		if o.DBFilename == "" || o.DBFilename == "skip" {
			fmt.Fprintf(io.err, "... and %d more failed records (not printed; with a progress database, --db_filename, all are in its failed_rows table)\n", more)
		} else {
			fmt.Fprintf(io.err, "... and %d more failed records (all in the failed_rows table of %s)\n", more, o.DBFilename)
		}
	}
	if err != nil && sum.Partial != "" {
		fmt.Fprintf(io.err, "The download so far is kept in %s: rerun the same command with --result_db_filename %s to resume.\n", sum.Partial, o.ResultDBFilename)
	}
	if err != nil && sum.Total == 0 && sum.Failed == 0 {
		return err // refused before any record: no summary to give
	}
	verb := "transferred"
	if o.DryRun {
		verb = "converted (dry run, nothing stored)"
	}
	g.statusf(io, "%d entities total, %d previously transferred", sum.Total, sum.Previously)
	if sum.Skipped > 0 {
		g.statusf(io, "%d entities of other kinds than %s skipped", sum.Skipped, o.Kind)
	}
	size := ""
	if sum.Bytes >= 1024 {
		size = ", " + human.Size(sum.Bytes) // as the bar shows it
	}
	g.statusf(io, "%d entities (%d bytes%s) %s in %.1f seconds", sum.Loaded, sum.Bytes, size, verb, sum.Duration.Seconds())
	if err != nil {
		if !download && errors.Is(err, context.Canceled) && o.DBFilename != "" && o.DBFilename != "skip" {
			fmt.Fprintf(io.err, "Progress is saved in %s: rerun the same command with --db_filename %s to resume.\n", o.DBFilename, o.DBFilename)
		}
		return err
	}
	if g.format.machine() {
		if err := emit(io, g, newBulkloadResult(o, sum, download), nil); err != nil {
			return err
		}
	}
	if sum.Failed > 0 {
		fmt.Fprintf(io.err, "Some entities not successfully transferred: %d records failed\n", sum.Failed)
		return errReported
	}
	if download {
		g.statusf(io, "Wrote %s", o.Filename)
	}
	g.statusf(io, "All entities successfully transferred")
	return nil
}

// bulkloadResult is the result of upload_data and download_data
// (docs/schemas/bulkload.json): the counts the summary lines say, and the
// failed records reported (all of them are in the progress database).
type bulkloadResult struct {
	Direction  string          `json:"direction"` // "upload" or "download"
	File       string          `json:"file"`
	DryRun     bool            `json:"dry_run"`
	Total      int             `json:"total"`
	Previously int             `json:"previously"`
	Loaded     int             `json:"transferred"`
	Failed     int             `json:"failed"`
	Skipped    int             `json:"skipped"`
	Bytes      int64           `json:"bytes"`
	Seconds    float64         `json:"seconds"`
	ProgressDB string          `json:"progress_db,omitempty"`
	Failures   []bulkloadFault `json:"failures"`
}

type bulkloadFault struct {
	Line    int    `json:"line"`
	Record  int    `json:"record"`
	Message string `json:"message"`
}

func newBulkloadResult(o bulkload.Options, sum bulkload.Summary, download bool) bulkloadResult {
	r := bulkloadResult{Direction: "upload", File: o.Filename, DryRun: o.DryRun, Total: sum.Total, Previously: sum.Previously,
		Loaded: sum.Loaded, Failed: sum.Failed, Skipped: sum.Skipped, Bytes: sum.Bytes, Seconds: sum.Duration.Seconds(),
		Failures: []bulkloadFault{}}
	if download {
		r.Direction = "download"
	}
	if o.DBFilename != "skip" {
		r.ProgressDB = o.DBFilename
	}
	for _, f := range sum.Failures {
		r.Failures = append(r.Failures, bulkloadFault{Line: f.Line, Record: f.Record, Message: f.Err.Error()})
	}
	return r
}

// freshName is base+ext, or base-2+ext … when that file exists: two
// downloads started in the same second get databases of their own.
func freshName(base, ext string) string {
	name := base + ext
	for i := 2; i < 1000; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s-%d%s", base, i, ext)
	}
	return name
}
