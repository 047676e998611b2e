package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/logs"
	"github.com/appcfg/appcfg/validate"
)

func requestLogsCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "request_logs",
		Usage:     "write an application version's request logs to a file, oldest first",
		ArgsUsage: "[DIR] OUTPUT_FILE  (OUTPUT_FILE '-' is stdout; without DIR give -A and -V)",
		Description: "Lines are Apache combined format with App Engine's extras, times in US/Pacific.\n" +
			"Days run from midnight US/Pacific.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "num_days", Aliases: []string{"n"}, Value: 1,
				Usage: "days of logs to get, ending at --end_date; 0 for all (default 1, or 0 with --append)"},
			&cli.StringFlag{Name: "end_date", Usage: "last day to get, YYYY-MM-DD (default today, US/Pacific)"},
			&cli.IntFlag{Name: "severity", Value: -1,
				Usage: "also write app log lines at or above this level: 0 debug, 1 info, 2 warning, 3 error, 4 critical"},
			&cli.BoolFlag{Name: "append", Aliases: []string{"a"},
				Usage: "add to OUTPUT_FILE after its newest request line instead of replacing it"},
			&cli.StringFlag{Name: "vhost", Usage: "only requests for this host name"},
			&cli.BoolFlag{Name: "include_vhost", Usage: "add the host name to each line"},
			&cli.BoolFlag{Name: "include_all", Usage: "add everything known about each request to its line"},
			&cli.BoolFlag{Name: "follow", Usage: "after the download, keep printing new requests as they are logged, until interrupted or --follow_timeout"},
			&cli.DurationFlag{Name: "follow_timeout", Usage: "with --follow, stop after this long (like 10m; 0 for never), printing what was logged up to then"},
			&cli.DurationFlag{Name: "follow_interval", Value: time.Second, Usage: "with --follow, how often to look for new requests"},
		},
		Action: action(io, requestLogsOptionsFrom, runRequestLogs),
	}
}

// requestLogsOptions are request_logs' options.
type requestLogsOptions struct {
	globals
	args []string // [DIR] OUTPUT_FILE
	// logs is what the flags say of the download; the application,
	// version, streams and clock are filled in by runRequestLogs.
	logs logs.Options
}

func requestLogsOptionsFrom(c *cli.Context) (requestLogsOptions, error) {
	g, err := readGlobals(c)
	if err != nil {
		return requestLogsOptions{}, err
	}
	args := c.Args().Slice()
	opts, err := logsOptionsFrom(c, args)
	return requestLogsOptions{globals: g, args: args, logs: opts}, err
}

// logsOptionsFrom reads request_logs' flags and checks how they combine.
func logsOptionsFrom(c *cli.Context, args []string) (logs.Options, error) {
	var opts logs.Options
	switch {
	case len(args) == 0:
		return opts, usagef("request_logs [DIR] OUTPUT_FILE: OUTPUT_FILE is missing; name the file to write the logs to ('-' for stdout)")
	case len(args) > 2:
		return opts, usagef("request_logs [DIR] OUTPUT_FILE: %d arguments given; give at most the app's directory and the output file", len(args))
	}
	opts = logs.Options{Output: args[len(args)-1], Append: c.Bool("append"),
		EndDate: c.String("end_date"), VHost: c.String("vhost")}
	opts.IncludeVHost, opts.IncludeAll = c.Bool("include_vhost"), c.Bool("include_all")
	opts.NumDays = c.Int("num_days")
	if opts.Append && !c.IsSet("num_days") {
		opts.NumDays = 0
	}
	if opts.NumDays < 0 {
		return opts, usagef("--num_days must be 0 (all) or more, not %d.", opts.NumDays)
	}
	opts.Severity = backend.Severity(c.Int("severity"))
	if c.IsSet("severity") && (opts.Severity < backend.Debug || opts.Severity > backend.Critical) {
		return opts, usagef("Severity range is 0 (DEBUG) through 4 (CRITICAL).")
	}
	if opts.Append && opts.Output == "-" {
		return opts, usagef("Can't combine --append with output to stdout.")
	}
	opts.Follow, opts.FollowTimeout, opts.FollowInterval = c.Bool("follow"), c.Duration("follow_timeout"), c.Duration("follow_interval")
	switch {
	case opts.Follow && opts.EndDate != "":
		return opts, usagef("--follow reads up to now: it cannot be combined with --end_date.")
	case opts.FollowTimeout < 0 || opts.FollowInterval <= 0:
		return opts, usagef("--follow_timeout must be 0 (never) or more and --follow_interval more than 0.")
	case !opts.Follow && (c.IsSet("follow_timeout") || c.IsSet("follow_interval")):
		return opts, usagef("--follow_timeout and --follow_interval apply to --follow only.")
	}
	return opts, nil
}

// runRequestLogs writes the request logs of the version that DIR, or -A
// and -V, name to the output file.
func runRequestLogs(ctx context.Context, ro requestLogsOptions, d deps) error {
	g, io, args, opts := ro.globals, d.io, ro.args, ro.logs
	opts.Stdout, opts.Now = io.out, d.now
	if _, _, err := logs.Window(d.now(), logs.Pacific(), opts.EndDate, opts.NumDays); err != nil {
		return usagef("%v", err)
	}
	if len(args) == 2 {
		dir, err := loadAppDir(ctx, io, g, args[0], false)
		if err != nil {
			return err
		}
		opts.App, opts.Service, opts.Version = dir.appID, dir.service, dir.version
		if opts.Version == "" {
			return usagef("%s has no version: set version: or give -V", dir.appYAML)
		}
	} else if (g.app() == "" || g.version == "") && validate.FindFile(".", "app") != "" {
		// Like the other commands, the app in the current directory.
		dir, err := loadAppDir(ctx, io, g, ".", false)
		if err != nil {
			return err
		}
		opts.App, opts.Service, opts.Version = dir.appID, dir.service, dir.version
		if opts.Version == "" {
			return usagef("%s has no version: set version: or give -V", dir.appYAML)
		}
	} else {
		if g.app() == "" || g.version == "" {
			return usagef("Expected the --application and --version flags if <directory> argument is not specified.")
		}
		opts.App, opts.Service, opts.Version = g.app(), firstNonEmpty(g.module, "default"), g.version
	}
	if g.verbosity > 0 {
		opts.Status = io.err
	}
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		lr, err := backend.As[backend.LogReader](b, "reading request logs")
		if err != nil {
			return err
		}
		if g.format.machine() {
			return requestLogsMachine(ctx, io, g, lr, opts)
		}
		_, err = logs.Download(ctx, lr, opts)
		if errors.Is(err, context.Canceled) && opts.Append {
			return fmt.Errorf("request_logs interrupted; the lines appended to %s so far are whole: run it again with --append to go on: %w", opts.Output, err)
		}
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("request_logs interrupted; %s was left as it was: %w", opts.Output, err)
		}
		return err
	})
}

// requestLogsResult is request_logs' result with --format json
// (docs/schemas/request_logs.json): the records themselves when the output
// is stdout, else what was written to the file.
type requestLogsResult struct {
	App      string                `json:"app"`
	Service  string                `json:"service"`
	Version  string                `json:"version"`
	Output   string                `json:"output"` // "-" for stdout
	Requests int                   `json:"requests"`
	Lines    int                   `json:"lines"`
	Records  []*backend.RequestLog `json:"records"` // [] when they went to a file, or as ndjson events
}

// requestLogsMachine is request_logs with --format json or ndjson: to
// stdout ("-") the records are JSON objects (in the document, or one
// "record" event each); a file is written in the usual line format and the
// result says what it holds.
func requestLogsMachine(ctx context.Context, io stdio, g globals, lr backend.LogReader, opts logs.Options) error {
	res := requestLogsResult{App: opts.App, Service: opts.Service, Version: opts.Version, Output: opts.Output}
	var r logs.Result
	var err error
	if opts.Output == "-" {
		res.Records = []*backend.RequestLog{}
		r, err = logs.Records(ctx, lr, opts, func(l *backend.RequestLog) error {
			if g.format == formatNDJSON {
				return writeEvent(io.out, event{Event: "record", Record: fillNilSlices(l)})
			}
			res.Records = append(res.Records, l)
			return nil
		})
		if g.format == formatNDJSON {
			res.Records = nil
		}
	} else {
		r, err = logs.Download(ctx, lr, opts)
	}
	if err != nil {
		return fmt.Errorf("request_logs of app %s: %w", opts.App, err)
	}
	res.Requests, res.Lines = r.Requests, r.Lines
	return emit(io, g, res, nil)
}
