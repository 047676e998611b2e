package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/companion"
	"github.com/appcfg/appcfg/internal/groc"
	"github.com/appcfg/appcfg/internal/regularfile"
	"github.com/appcfg/appcfg/validate"
)

// configPushCommands are update_cron, update_queues, update_dispatch,
// update_dos and cron_info: the per-application configurations pushed on
// their own, without a deploy.
func configPushCommands(io stdio) []*cli.Command {
	return []*cli.Command{
		configPushCommand(io, configPush{"update_cron", validate.KindCron, "cron", "job", "Uploading cron entries."}),
		configPushCommand(io, configPush{"update_queues", validate.KindQueue, "queue", "queue", "Uploading task queue entries."}),
		configPushCommand(io, configPush{"update_dispatch", validate.KindDispatch, "dispatch", "rule", "Uploading dispatch entries."}),
		configPushCommand(io, configPush{"update_dos", validate.KindDOS, "dos", "blocked subnet", "Uploading DOS entries."}),
		cronInfoCommand(io),
	}
}

// companionFile is one companion file of an application directory, checked.
type companionFile struct {
	dir    string // absolute
	arg    string // the DIR argument as given, "" for the default "."
	kind   validate.Kind
	path   string // "" when the directory has none
	config any    // the parsed model; nil when absent
	// appID is the application it belongs to: -A, else the file's own
	// application:, else app.yaml's; "" when none says.
	appID string
}

// loadCompanion finds and validates the kind's file in dir (<kind>.yaml,
// else .yml, in dir and then in WEB-INF/appengine-generated, as the legacy
// tool looks), and app.yaml beside it when withApp is set, to learn the
// application id. Problems are printed as validate prints them; any error
// makes it return errReported before the host is contacted.
func loadCompanion(ctx context.Context, io stdio, g globals, args []string, kind validate.Kind, withApp bool) (*companionFile, error) {
	if len(args) > 1 {
		return nil, usagef("Expected a single <directory> argument.")
	}
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("application directory %s: %w", dir, err)
	}
	named := "" // the file itself, when the argument names one
	// The files are found and named from the path as given, so problems
	// name them as `appcfg validate` does: relative to where the user is.
	where := dir
	if st, err := os.Stat(abs); err != nil {
		return nil, usagef("application directory %s does not exist", dir)
	} else if !st.IsDir() {
		// A yaml file names its directory, as appcfg.py's rollback and
		// gcloud accept; a companion file of this kind is the one pushed.
		if !isYAMLFile(abs) {
			return nil, usagef("Not a directory: %s", dir)
		}
		if validate.KindOf(abs) == kind {
			named = dir
		}
		abs, where = filepath.Dir(abs), filepath.Dir(dir)
	}
	opts := g.validateOptions()
	cf := &companionFile{dir: abs, kind: kind}
	if len(args) == 1 {
		cf.arg = args[0]
	}
	var results []validate.FileResult
	appYAML := ""
	if withApp {
		if appYAML = validate.FindFile(where, "app"); appYAML != "" {
			results = append(results, validate.File(ctx, appYAML, validate.KindApp, opts))
		}
	}
	cf.path = named
	if cf.path == "" {
		cf.path = validate.FindFile(where, string(kind))
		if cf.path == "" || regularfile.Check(cf.path) != nil {
			// As appcfg.py: a regular file in WEB-INF/appengine-generated
			// wins over a top-level one that is not a regular file.
			alt := validate.FindFile(filepath.Join(where, "WEB-INF", "appengine-generated"), string(kind))
			if alt != "" && (cf.path == "" || regularfile.Check(alt) == nil) {
				cf.path = alt
			}
		}
	}
	if cf.path != "" {
		results = append(results, validate.File(ctx, cf.path, kind, opts))
	}
	if err := reportProblems(io, g, results); err != nil {
		return nil, err
	}
	var fromApp string
	for _, r := range results {
		switch c := r.Config.(type) {
		case *appconfig.App:
			if c != nil {
				fromApp = firstNonEmpty(c.Application, c.Project)
			}
		default:
			cf.config = r.Config
		}
	}
	fromFile, file := companionApp(cf.config), cf.path
	if fromFile == "" {
		fromFile, file = fromApp, appYAML
	}
	cf.appID = g.targetApp(io, fromFile, file)
	return cf, nil
}

// companionApp is the application: field of a companion model. Every
// companion model (index, cron, queue, dispatch, dos) has one, under the
// same name; reading it by name keeps this from listing the five types.
func companionApp(cfg any) string {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	if f := v.Elem().FieldByName("Application"); f.IsValid() && f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}

// requireApp returns the application id or the legacy usage error.
func (cf *companionFile) requireApp() (string, error) {
	if cf.appID == "" {
		return "", usagef("Expected -A app_id when %s.yaml.application is not set and app.yaml is not present.", cf.kind)
	}
	return cf.appID, nil
}

// isYAMLFile reports whether path names a regular .yaml or .yml file.
func isYAMLFile(path string) bool {
	st, err := os.Stat(path)
	ext := filepath.Ext(path)
	return err == nil && st.Mode().IsRegular() && (ext == ".yaml" || ext == ".yml")
}

// configPush describes one update_* command.
type configPush struct {
	name   string
	kind   validate.Kind
	noun   string // as the legacy messages name the configuration
	entry  string // what one entry is, for the summary
	status string // the legacy status line
}

func configPushCommand(io stdio, p configPush) *cli.Command {
	return &cli.Command{
		Name:      p.name,
		Usage:     fmt.Sprintf("validate %s.yaml and replace the application's %s configuration on the host", p.kind, p.noun),
		ArgsUsage: "[DIR]",
		Action: action(io, func(c *cli.Context) (configPushOptions, error) {
			g, err := readGlobals(c)
			return configPushOptions{globals: g, args: c.Args().Slice(), push: p}, err
		}, runConfigPush),
	}
}

// configPushOptions are the options of an update_* command.
type configPushOptions struct {
	globals
	args []string // the DIR (or file) argument, if any
	push configPush
}

// runConfigPush validates the command's companion file and replaces that
// configuration of the application on the host with it.
func runConfigPush(ctx context.Context, opts configPushOptions, d deps) error {
	p, g, io := opts.push, opts.globals, d.io
	name, noun := p.name, p.noun
	cf, err := loadCompanion(ctx, io, g, opts.args, p.kind, true)
	if err != nil {
		return err
	}
	if cf.path == "" || cf.config == nil {
		return emit(io, g, pushResult{Action: name, Config: noun, Entries: 0}, func() {
			fmt.Fprintf(io.out, "Could not find %s configuration. No action taken.\n", noun)
		})
	}
	app, err := cf.requireApp()
	if err != nil {
		return err
	}
	f, err := companion.Document(cf.path, cf.config, app)
	if err != nil {
		return err
	}
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		cs, err := companion.Store(b, f.Kind)
		if err != nil {
			return err
		}
		g.statusf(io, "%s", p.status)
		if err := f.Push(ctx, cs, app); err != nil {
			return fmt.Errorf("updating the %s configuration of app %s from %s: %w", noun, app, cf.path, err)
		}
		res := pushResult{Action: name, App: app, Config: noun, File: cf.path, Entries: f.Entries, Pushed: true}
		return emit(io, g, res, func() {
			fmt.Fprintf(io.out, "Updated the %s configuration of app %s from %s (%s).\n",
				noun, app, filepath.Base(cf.path), plural(f.Entries, p.entry))
		})
	})
}

func cronInfoCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "cron_info",
		Usage:     "print the next run times of each job of cron.yaml",
		ArgsUsage: "[DIR]",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "num_runs", Aliases: []string{"n"}, Value: 5, Usage: "how many run times to print for each job"},
			&cli.StringFlag{Name: "after", Usage: "compute the runs after this time (RFC 3339, e.g. 2026-01-01T00:00:00Z) instead of now"},
		},
		Action: action(io, cronInfoOptionsFrom, runCronInfo),
	}
}

// cronInfoOptions are cron_info's options.
type cronInfoOptions struct {
	globals
	args    []string  // the DIR (or file) argument, if any
	numRuns int       // runs to print for each job, 0 or more
	after   time.Time // compute the runs after this time; zero: now
}

func cronInfoOptionsFrom(c *cli.Context) (cronInfoOptions, error) {
	g, err := readGlobals(c)
	if err != nil {
		return cronInfoOptions{}, err
	}
	opts := cronInfoOptions{globals: g, args: c.Args().Slice(), numRuns: c.Int("num_runs")}
	if opts.numRuns < 0 {
		return opts, usagef("option --num_runs: invalid value: %d (must be 0 or more)", opts.numRuns)
	}
	if s := c.String("after"); s != "" {
		if opts.after, err = time.Parse(time.RFC3339, s); err != nil {
			return opts, usagef("option --after: invalid value: %s (use RFC 3339, such as 2026-01-01T00:00:00Z)", s)
		}
	}
	return opts, nil
}

// runCronInfo prints the next runs of each job of cron.yaml, after
// opts.after or else the deps' clock.
func runCronInfo(ctx context.Context, opts cronInfoOptions, d deps) error {
	g, io, n := opts.globals, d.io, opts.numRuns
	start, fromNow := opts.after, opts.after.IsZero()
	if fromNow {
		start = d.now()
	}
	cf, err := loadCompanion(ctx, io, g, opts.args, validate.KindCron, false)
	if err != nil {
		return err
	}
	info, _ := cf.config.(*appconfig.CronInfo)
	if info == nil {
		return emit(io, g, cronInfoResult{Jobs: []cronJobRuns{}}, func() {
			fmt.Fprintln(io.out, "Could not find cron configuration. No action taken.")
		})
	}
	if g.format.machine() {
		res, err := cronRuns(info, start, n)
		if err != nil {
			return err
		}
		return emit(io, g, res, nil)
	}
	return printCronInfo(io.out, info, start, n, fromNow)
}

// printCronInfo prints each job as appcfg.py's cron_info did: a blank line,
// the description, URL and schedule, then its next n runs after start, each
// in UTC with its distance from start. Unlike appcfg.py, which computed
// every schedule in UTC and warned that timezones were ignored, the runs are
// computed in the job's timezone; its wall-clock time is added after them.
// The start is taken to the whole second: appcfg.py's deltas kept the
// microseconds of "now" for runs at fixed times ("18:45:15.922460 from now")
// but not for runs counted from now ("23:59:16 from now"); one format, in
// whole seconds, reads better and loses nothing the run times show.
func printCronInfo(w io.Writer, info *appconfig.CronInfo, start time.Time, n int, fromNow bool) error {
	start = start.UTC().Truncate(time.Second)
	since := "from now"
	if !fromNow {
		since = "from " + start.Format("2006-01-02 15:04:05Z")
	}
	for _, e := range info.Cron {
		if e == nil {
			continue
		}
		desc := e.Description
		if desc == "" {
			desc = "<no description>"
		}
		tz := firstNonEmpty(e.Timezone, "UTC")
		fmt.Fprintf(w, "\n%s:\nURL: %s\nSchedule: %s (%s)\n", desc, e.URL, e.Schedule, tz)
		runs, loc, err := groc.NextRuns(e.Schedule, e.Timezone, start, n)
		if err != nil {
			return fmt.Errorf("cron job %s: %w", e.URL, err)
		}
		for _, r := range runs {
			line := fmt.Sprintf("%s, %s %s", r.UTC().Format("2006-01-02 15:04:05Z"), pyTimedelta(r.Sub(start)), since)
			if loc != time.UTC {
				line += " (" + r.In(loc).Format("2006-01-02 15:04:05 MST") + ")"
			}
			fmt.Fprintln(w, line)
		}
		if len(runs) < n {
			fmt.Fprintln(w, "The schedule never runs again.")
		}
	}
	return nil
}

// pushResult is the result of update_cron, update_queues, update_dos and
// update_dispatch (docs/schemas/config_push.json).
type pushResult struct {
	Action  string `json:"action"`
	App     string `json:"app,omitempty"`
	Config  string `json:"config"` // cron, queue, dos, dispatch
	File    string `json:"file,omitempty"`
	Entries int    `json:"entries"`
	Pushed  bool   `json:"pushed"` // false: no such file, nothing was done
}

// cronInfoResult is cron_info's result (docs/schemas/cron_info.json).
type cronInfoResult struct {
	Jobs []cronJobRuns `json:"jobs"`
}

type cronJobRuns struct {
	Description string   `json:"description"`
	URL         string   `json:"url"`
	Schedule    string   `json:"schedule"`
	Timezone    string   `json:"timezone"`
	Runs        []string `json:"runs"` // RFC 3339, in UTC; fewer than asked when the schedule ends
}

// cronRuns computes the next n runs of each job after start, as
// printCronInfo prints them.
func cronRuns(info *appconfig.CronInfo, start time.Time, n int) (cronInfoResult, error) {
	start = start.UTC().Truncate(time.Second)
	res := cronInfoResult{Jobs: []cronJobRuns{}}
	for _, e := range info.Cron {
		if e == nil {
			continue
		}
		runs, _, err := groc.NextRuns(e.Schedule, e.Timezone, start, n)
		if err != nil {
			return res, fmt.Errorf("cron job %s: %w", e.URL, err)
		}
		j := cronJobRuns{Description: e.Description, URL: e.URL, Schedule: e.Schedule,
			Timezone: firstNonEmpty(e.Timezone, "UTC"), Runs: []string{}}
		for _, r := range runs {
			j.Runs = append(j.Runs, r.UTC().Format(time.RFC3339))
		}
		res.Jobs = append(res.Jobs, j)
	}
	return res, nil
}

// pyTimedelta formats d as Python's str(timedelta), "[D day[s], ]H:MM:SS",
// in whole seconds (a fraction is dropped).
func pyTimedelta(d time.Duration) string {
	neg := d < 0
	if neg {
		// Python normalises to a negative day count and a positive rest.
		days := (-d + 24*time.Hour - 1) / (24 * time.Hour)
		return formatDays(-int64(days), d+days*24*time.Hour)
	}
	days := d / (24 * time.Hour)
	return formatDays(int64(days), d-days*24*time.Hour)
}

func formatDays(days int64, rest time.Duration) string {
	var b strings.Builder
	if days != 0 {
		unit := "days"
		if days == 1 || days == -1 {
			unit = "day"
		}
		fmt.Fprintf(&b, "%d %s, ", days, unit)
	}
	secs := int64(rest / time.Second)
	fmt.Fprintf(&b, "%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	return b.String()
}
