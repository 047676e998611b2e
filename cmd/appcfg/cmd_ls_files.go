package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/skipfiles"
	"github.com/appcfg/appcfg/validate"
)

// Flags shared by every command that chooses the files of an app.
const (
	flagIgnoreFile    = "ignore-file"
	flagStrict        = "strict"
	flagFollowLinks   = "follow-external-links"
	flagAllowSecrets  = "allow-secrets"
	lsFlagSkipped     = "skipped"
	lsFlagExplain     = "explain"
	lsFilesUsageLines = "Prints the files of the app in DIR (default: the current directory) that an update\n" +
		"would upload, one per line, sorted. The rules come from app.yaml's skip_files (Python regular\n" +
		"expressions; the SDK default when absent) or, as gcloud decides, from a .gcloudignore file\n" +
		"(second-generation runtimes use only that). Before any upload the same checks run here:\n" +
		"symbolic link loops, links leaving the app, .py/.pyc conflicts (python27), the limits of\n" +
		"10,000 files, 32 MB per file and 150 MiB in total, and files that look like credentials.\n" +
		"Any of those is printed on stderr and the exit status is 1."
)

// skipFilesFlags are the options that change which files are chosen.
func skipFilesFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagIgnoreFile, Aliases: []string{"ignore_file"},
			Usage: "use this gitignore-style file instead of skip_files or .gcloudignore (relative to DIR)"},
		&cli.BoolFlag{Name: flagFollowLinks, Aliases: []string{"follow_external_links"},
			Usage: "follow symbolic links that point outside the app directory"},
		&cli.BoolFlag{Name: flagAllowSecrets, Aliases: []string{"allow_secrets"},
			Usage: "upload files that look like credentials (private keys, .env, service-account JSON …)"},
	}
}

// selectionOptions are what skipFilesFlags (and update's --max_size) say.
type selectionOptions struct {
	ignoreFile   string
	followLinks  bool
	allowSecrets bool
	maxSize      string // update's --max_size, as given; "" for none
}

func selectionOptionsFrom(c *cli.Context) selectionOptions {
	return selectionOptions{ignoreFile: c.String(flagIgnoreFile), followLinks: c.Bool(flagFollowLinks),
		allowSecrets: c.Bool(flagAllowSecrets), maxSize: c.String(flagMaxSize)}
}

// skipFilesOptions turns an app's configuration and the flags into the
// options of skipfiles.Walk; g.runtime overrides app.yaml's (the -r flag).
func skipFilesOptions(g globals, sel selectionOptions, app *appconfig.App, appYAML string) skipfiles.Options {
	opts := skipfiles.Options{
		Runtime:             app.Runtime,
		Env:                 app.Env,
		SkipFiles:           app.SkipFiles,
		SkipFilesSource:     appYAML,
		SkipFilesPos:        app.SkipFilesPos,
		IgnoreFile:          sel.ignoreFile,
		Strict:              g.strict,
		FollowExternalLinks: sel.followLinks,
		AllowSecrets:        sel.allowSecrets,
	}
	if app.Runtime == "vm" {
		opts.Runtime = app.EffectiveRuntime()
	}
	if app.IsVM() {
		opts.Env = "flex"
	}
	if g.runtime != "" {
		opts.Runtime = g.runtime
	}
	for _, h := range app.Handlers {
		if h != nil && h.Script != "" {
			opts.Handlers = append(opts.Handlers, skipfiles.Handler{Script: h.Script, File: appYAML, Pos: h.Position})
		}
	}
	return opts
}

func lsFilesCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:        "ls_files",
		Aliases:     []string{"ls-files"},
		Usage:       "list the files an update would upload, and why any file is or is not uploaded",
		ArgsUsage:   "[DIR]",
		Description: lsFilesUsageLines,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: lsFlagSkipped, Usage: "list the skipped paths instead, each with the rule or check that skipped it"},
			&cli.StringFlag{Name: lsFlagExplain, Usage: "say which rule (file, line, pattern) keeps or drops `PATH`"},
		}, skipFilesFlags()...),
		Action: action(io, lsFilesOptionsFrom, runLsFiles),
	}
}

// lsFilesOptions are ls_files' options.
type lsFilesOptions struct {
	globals
	dir     string // the app directory
	skipped bool   // list the skipped paths instead
	explain string // say why this path is kept or dropped
	sel     selectionOptions
}

func lsFilesOptionsFrom(c *cli.Context) (lsFilesOptions, error) {
	g, err := readGlobals(c)
	if err != nil {
		return lsFilesOptions{}, err
	}
	if c.NArg() > 1 {
		return lsFilesOptions{}, usagef("Expected a single <directory> argument after 'ls_files'.")
	}
	opts := lsFilesOptions{globals: g, dir: ".", skipped: c.Bool(lsFlagSkipped), explain: c.String(lsFlagExplain),
		sel: selectionOptionsFrom(c)}
	if c.NArg() == 1 {
		opts.dir = c.Args().First()
	}
	return opts, nil
}

// lsReporter prints warnings always and the per-path details with -v.
type lsReporter struct {
	io      stdio
	verbose bool
}

func (r lsReporter) Status(msg string) {
	if r.verbose {
		fmt.Fprintln(r.io.err, msg)
	}
}

func (r lsReporter) Warn(msg string) { fmt.Fprintln(r.io.err, "warning: "+msg) }

// Details tells the walk whether Status prints (skipfiles.QuietReporter).
func (r lsReporter) Details() bool { return r.verbose }

// runLsFiles prints the files of the app in opts.dir that an update
// uploads (or those it skips, or why one path is kept or dropped).
func runLsFiles(ctx context.Context, lo lsFilesOptions, d deps) error {
	g, io, dir := lo.globals, d.io, lo.dir
	// A listing keeps nearly all it allocates (about 0.7 KB a file): at
	// the default pace the collector ran twice for 10,000 files, a tenth
	// of the CPU time, to free almost nothing. At 5x the live heap it does
	// not run below some 20,000 files; the soft limit bounds the peak of
	// a far larger tree.
	defer paceGC(400, 256<<20)()
	// The stat cache that update uses: the secret guard's verdicts found
	// here spare the next ls_files or update a read of every unchanged
	// file. It loads beside the validation and the listing, which do not
	// need it (the guard runs last): loaded first, it was a twelfth of
	// the run's time on one core while the other waited.
	var cache func() *hashcache.Cache
	if abs, err := filepath.Abs(dir); err == nil {
		cache = loadCache(cachePath(abs))
		defer cache() // no goroutine outlives the command
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("application directory %s does not exist", dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	appYAML := validate.FindFile(dir, "app")
	if appYAML == "" {
		return fmt.Errorf("directory %s does not contain configuration file app.yaml", dir)
	}
	vr := validate.File(ctx, appYAML, validate.KindApp, g.validateOptions())
	app, _ := vr.Config.(*appconfig.App)
	if !vr.OK() || app == nil {
		for _, p := range vr.Problems {
			fmt.Fprintln(io.err, p.String())
		}
		fmt.Fprintln(io.err, "appcfg: app.yaml has errors (above); the files cannot be chosen until they are fixed.")
		return errReported
	}
	for _, p := range vr.Problems {
		fmt.Fprintln(io.err, p.String())
	}
	opts := skipFilesOptions(g, lo.sel, app, appYAML)
	opts.Cache = cache
	res, walkErr := skipfiles.Walk(ctx, dir, opts, lsReporter{io: io, verbose: g.verbosity >= 2})
	if cache != nil && res != nil {
		if err := cache().Save(); err != nil && g.verbosity >= 2 {
			fmt.Fprintln(io.err, "warning: "+err.Error())
		}
	}
	var problems *skipfiles.Error
	if walkErr != nil && (!errors.As(walkErr, &problems) || res == nil) {
		if problems != nil {
			return reportSkipProblems(io, g, problems)
		}
		return walkErr
	}
	var decision *skipfiles.Decision
	if p := lo.explain; p != "" {
		d := res.Explain(explainRel(res.Root, p))
		decision = &d
	}
	text := func() {
		printLsText(io, lo.skipped, res, decision)
		if problems != nil {
			for _, p := range problems.Problems {
				fmt.Fprintln(io.err, "error: "+p.String())
			}
		}
	}
	var result any // made only for a machine format: text prints from res
	if g.format.machine() {
		result = lsResult(lo.skipped, res, decision, problems)
	}
	if err := emit(io, g, result, text); err != nil {
		return fmt.Errorf("write the file list: %w", err)
	}
	if decision == nil && !g.format.machine() {
		g.statusf(io, "%s, %s to upload; %d skipped paths; rules: %s",
			plural(len(res.Files), "file"), human.Size(res.TotalSize), len(res.Skipped), res.Matcher.Source())
	}
	if problems != nil {
		return errReported
	}
	return nil
}

// loadCache starts loading the stat cache at path on a goroutine of its
// own and returns what waits for it (each call returns the same cache).
// A panic of the loader is raised again in the caller.
func loadCache(path string) func() *hashcache.Cache {
	var (
		cache   *hashcache.Cache
		crashed crash.Catcher
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		defer crashed.Recover()
		cache = hashcache.Open(path)
	}()
	return func() *hashcache.Cache {
		<-done
		crashed.Reraise()
		return cache
	}
}

// explainRel makes PATH relative to the app: a path that exists from the
// current directory and lies inside the app is taken as such; anything else
// is already relative to the app root.
func explainRel(root, p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		if _, err := os.Lstat(abs); err == nil {
			if rel, err := filepath.Rel(root, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(p)
}

func printLsText(io stdio, skipped bool, res *skipfiles.Result, d *skipfiles.Decision) {
	// Buffered: a write per line of a 10,000-file list costs more than
	// the walk that found them; 64 KiB, a pipe's size, makes it five
	// writes instead of seventy.
	out := bufio.NewWriterSize(io.out, 64<<10)
	defer out.Flush()
	switch {
	case d != nil:
		fmt.Fprintf(out, "%s: %s\n", human.Path(d.Path), d.Reason)
	case skipped:
		for _, s := range res.Skipped {
			p := s.Rel
			if s.Dir {
				p += "/"
			}
			fmt.Fprintf(out, "%s\t%s\n", human.Path(p), s.Reason)
		}
	default:
		for _, f := range res.Files {
			out.WriteString(human.Path(f.Path))
			out.WriteByte('\n')
		}
	}
}

// lsJSON is ls_files' result (docs/schemas/ls_files.json).
type lsJSON struct {
	Root     string              `json:"root"`
	Mode     skipfiles.Mode      `json:"mode"`
	Rules    string              `json:"rules"`
	Files    []lsFile            `json:"files"`
	Total    int64               `json:"total_size"`
	Skipped  []skipfiles.Skip    `json:"skipped,omitempty"`
	Explain  *skipfiles.Decision `json:"explain,omitempty"`
	Problems []skipfiles.Problem `json:"problems"`
}

// lsFile is one file of lsJSON.
type lsFile struct {
	Path  string          `json:"path"`
	Size  int64           `json:"size"`
	MTime time.Time       `json:"mtime"`
	Rule  *skipfiles.Rule `json:"rule,omitempty"`
}

func lsResult(skipped bool, res *skipfiles.Result, d *skipfiles.Decision, problems *skipfiles.Error) lsJSON {
	files := make([]lsFile, len(res.Files))
	for i := range res.Files {
		f := &res.Files[i]
		files[i] = lsFile{Path: f.Path, Size: f.Size(), MTime: f.ModTime(), Rule: f.Rule}
	}
	out := lsJSON{Root: res.Root, Mode: res.Matcher.Mode(), Rules: res.Matcher.Source(), Files: files,
		Total: res.TotalSize, Explain: d}
	if skipped {
		out.Skipped = res.Skipped
	}
	if problems != nil {
		out.Problems = problems.Problems
	}
	return out
}

// reportSkipProblems prints problems found before any file was listed (a
// bad pattern, contradictory rule sources).
func reportSkipProblems(io stdio, g globals, e *skipfiles.Error) error {
	if g.format.machine() {
		if err := emit(io, g, map[string]any{"problems": e.Problems}, nil); err != nil {
			return fmt.Errorf("write the problems: %w", err)
		}
	}
	for _, p := range e.Problems {
		fmt.Fprintln(io.err, "error: "+p.String())
	}
	return errReported
}
