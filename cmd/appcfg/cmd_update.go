package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/companion"
	"github.com/appcfg/appcfg/indexes"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/progress"
	"github.com/appcfg/appcfg/upload"
	"github.com/appcfg/appcfg/validate"
	"github.com/urfave/cli/v2"
)

// flagAllowDeprecatedRuntime skips the runtime lifecycle check.
const flagAllowDeprecatedRuntime = "allow_deprecated_runtime"

func updateCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "update",
		Usage:     "deploy the application in DIR as a new version (and push its index, cron, queue, dispatch and dos files)",
		ArgsUsage: "[DIR | FILE.yaml ...]",
		Description: "DIR (default: the current directory) is deployed with its companion files; a service's\n" +
			"yaml file (app.yaml, worker.yaml) deploys that service alone from the file's directory;\n" +
			"companion files named (index, cron, queue, dos, dispatch .yaml) are pushed after every\n" +
			"service is deployed, dispatch last. A failure stops before the companion files and says\n" +
			"which services were deployed.\n\n" +
			"Validates the configuration, selects the files to upload (see ls_files), hashes them,\n" +
			"uploads only the contents the host lacks, creates the version, and routes all traffic of\n" +
			"its service to it unless --no-promote. An interrupted update is resumed by running it again:\n" +
			"contents already sent are never sent twice.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"dry_run"}, Usage: "show the plan (files, bytes, what would be uploaded) and change nothing on the host"},
			&cli.BoolFlag{Name: "no-promote", Aliases: []string{"no_promote"}, Usage: "create the version but route no traffic to it"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "parallel uploads (default: what the backend handles well)"},
			&cli.IntFlag{Name: "keep_versions", Usage: "before deploying, delete the service's oldest versions beyond `N` (this one counts) that receive no traffic and are not the previous default; makes room under App Engine's 210-version cap"},
			&cli.BoolFlag{Name: flagAllowDeprecatedRuntime, Usage: "deploy a runtime past its deprecation date anyway (App Engine refuses it unless its dates changed; see docs/runtimes.md)"},
		}, append(skipFilesFlags(), legacyFlags(legacyUpdateOptions())...)...),
		Before: func(c *cli.Context) error { return checkLegacy(c, legacyUpdateOptions()) },
		Action: action(io, updateOptionsFrom, runUpdate),
	}
}

// updateOptions are update's options.
type updateOptions struct {
	globals
	args      []string // DIR | FILE.yaml ..., at least one
	dryRun    bool     // plan only
	noPromote bool     // route no traffic to the new versions
	jobs      int      // parallel uploads; 0 for the backend's choice
	// allowDeprecated deploys a runtime past its deprecation date.
	allowDeprecated bool
	// keepVersions deletes the oldest versions beyond it (0: keep all).
	keepVersions int
	sel          selectionOptions
}

func updateOptionsFrom(c *cli.Context) (updateOptions, error) {
	g, err := readGlobals(c)
	if err != nil {
		return updateOptions{}, err
	}
	opts := updateOptions{globals: g, args: c.Args().Slice(), dryRun: c.Bool("dry-run"),
		noPromote: c.Bool("no-promote"), jobs: c.Int("jobs"),
		allowDeprecated: c.Bool(flagAllowDeprecatedRuntime), keepVersions: c.Int("keep_versions"),
		sel: selectionOptionsFrom(c)}
	if len(opts.args) == 0 {
		opts.args = []string{"."}
	}
	return opts, nil
}

// updateTargets are what one update deploys: the services (each an app
// directory or a service's yaml file, in the order given) and the companion
// files to push once every service is deployed.
type updateTargets struct {
	services   []*appDir
	companions map[validate.Kind]validate.FileResult
}

// planUpdate loads and validates every argument before anything is sent:
// a directory is a service with its companion files, a service's yaml file
// a service alone, a companion yaml file (index, cron, queue, dos, dispatch)
// is pushed. A companion named on the command line wins over one found in
// a directory.
func planUpdate(ctx context.Context, io stdio, g globals, args []string) (*updateTargets, error) {
	t := &updateTargets{companions: map[validate.Kind]validate.FileResult{}}
	named := map[validate.Kind]validate.FileResult{}
	var bad *problemsError // the problems of every argument, reported
	for _, arg := range args {
		if kind := validate.KindOf(arg); kind != validate.KindApp && isYAMLFile(arg) {
			r := validate.File(ctx, arg, kind, g.validateOptions())
			if err := reportProblems(io, g, []validate.FileResult{r}); err != nil {
				bad = joinProblems(bad, err)
			}
			named[kind] = r
			continue
		}
		d, err := loadAppDir(ctx, io, g, arg, true)
		if errors.Is(err, errReported) {
			bad = joinProblems(bad, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		t.services = append(t.services, d)
		for k, r := range d.companions {
			if _, ok := t.companions[k]; !ok {
				t.companions[k] = r
			}
		}
	}
	if bad != nil {
		return nil, bad
	}
	for k, r := range named {
		t.companions[k] = r
	}
	return t, nil
}

// runUpdate deploys each service opts.args names, then pushes the
// companion files with the last one.
func runUpdate(ctx context.Context, opts updateOptions, d deps) (err error) {
	// What an update allocates (the file list, the stat cache, the
	// manifest) lives until it ends: at the default pace the collector ran
	// twice mid-walk for a 5,000-file redeploy, a twentieth of its CPU
	// time, freeing almost nothing; at 5x the live heap it does not run.
	defer paceGC(400, 256<<20)()
	g, io, args := opts.globals, d.io, opts.args
	t, err := planUpdate(ctx, io, g, args)
	if err != nil {
		return err
	}
	if len(t.services) > 0 {
		// The first service's stat cache loads on another core while
		// the host opens (the store's schema read), instead of after.
		first := t.services[0]
		first.cache = loadCache(cachePath(first.dir))
	}
	b, err := d.open(ctx, g)
	if err != nil {
		return err
	}
	defer closeBackend(b, &err)
	if len(t.services) > 0 {
		// A host that cannot deploy versions is refused before a file
		// is listed, hashed or scanned.
		if _, err := backend.AsDeployer(b); err != nil {
			return err
		}
	}
	g.statusf(io, "Host: %s", b.Location())
	var results []*updateResult
	for i, dir := range t.services {
		// The companions go with the last service, so dispatch rules,
		// pushed last, find every service they name.
		var comps map[validate.Kind]validate.FileResult
		if i == len(t.services)-1 {
			comps = t.companions
		}
		start := d.now()
		res, err := deployService(ctx, opts, d, b, dir, comps)
		if err != nil {
			return updateFailed(err, t, i, len(args) > 1)
		}
		results = append(results, newUpdateResult(res, b, start))
	}
	if len(t.services) == 0 {
		start := d.now()
		res, err := pushOnly(ctx, io, g, b, t.companions, opts.dryRun)
		if err != nil {
			return err
		}
		results = append(results, newUpdateResult(res, b, start))
	}
	var v any = results
	if len(results) == 1 {
		v = results[0]
	}
	err = emit(io, g, v, func() {
		for _, res := range results {
			printUpdateResult(io, g, res.Result)
		}
	})
	if err == nil {
		err = githubDeployOutputs(io, results)
	}
	return err
}

// updateResult is what update reports of one service (docs/schemas/update.json):
// the deploy's counts and what a script needs next, where the version and
// its service are served, and the traffic the version has now.
type updateResult struct {
	*upload.Result
	// Project is the project (application) deployed to; App says the same,
	// under the name appcfg.py used.
	Project string `json:"project"`
	// URL serves the version itself, ServiceURL the service by its
	// traffic split: App Engine's versionUrl and the service's host name;
	// on the local host the names serve answers on its default port.
	URL        string  `json:"url,omitempty"`
	ServiceURL string  `json:"service_url,omitempty"`
	Traffic    float64 `json:"traffic"` // the version's share of its service's traffic after the deploy, 0 to 1
	FilesSent  int     `json:"files_sent"`
	BytesSent  int64   `json:"bytes_sent"`
	Started    string  `json:"started"` // RFC 3339
	Seconds    float64 `json:"seconds"`
}

func newUpdateResult(res *upload.Result, b backend.Backend, start time.Time) *updateResult {
	r := &updateResult{Result: res, Project: res.App, Started: start.UTC().Format(time.RFC3339Nano),
		Seconds: time.Since(start).Seconds()}
	if res.DryRun || res.Version == "" {
		return r
	}
	r.FilesSent, r.BytesSent = res.Missing, res.MissingBytes
	if d := res.Deployed; d != nil {
		r.Traffic, r.URL = d.Traffic, d.URL
	}
	switch {
	case r.URL != "":
		r.ServiceURL = serviceURL(r.URL, res.Version)
	case b.Properties().Local:
		r.URL, r.ServiceURL = localURLs(res.Service, res.Version)
	}
	return r
}

// serviceURL is the URL of the service a version URL names: App Engine's
// host name without the leading "VERSION-dot-".
func serviceURL(versionURL, version string) string {
	u, err := url.Parse(versionURL)
	if err != nil {
		return ""
	}
	host, ok := strings.CutPrefix(u.Host, version+"-dot-")
	if !ok {
		return ""
	}
	u.Host = host
	return u.String()
}

// localURLs are the URLs `appcfg serve` answers for a version and its
// service on its default port: it routes by the host name's first label as
// App Engine does, and *.localhost names the loopback address.
func localURLs(service, version string) (versionURL, serviceURL string) {
	host := "localhost:" + strconv.Itoa(defaultServePort)
	svcHost := host
	if service != "default" {
		svcHost = service + "." + host
	}
	return "http://" + version + "-dot-" + service + "." + host, "http://" + svcHost
}

// updateFailed says, when an update of several services stops at the
// i-th, which of them were deployed and which were not; the companion files
// (dispatch last) go with the last service, so none of them was pushed.
func updateFailed(err error, t *updateTargets, i int, several bool) error {
	if !several {
		return err
	}
	name := func(d *appDir) string { return d.service + " (" + filepath.Base(d.appYAML) + ")" }
	var done, notDone []string
	for j, d := range t.services {
		if j < i {
			done = append(done, name(d))
		} else {
			notDone = append(notDone, name(d))
		}
	}
	for k, r := range t.companions {
		notDone = append(notDone, string(k)+" ("+filepath.Base(r.Path)+")")
	}
	sort.Strings(notDone[len(t.services)-i:])
	if len(done) == 0 {
		done = []string{"nothing"}
	}
	return fmt.Errorf("%w\ndeployed: %s; not deployed: %s", err, strings.Join(done, ", "), strings.Join(notDone, ", "))
}

// pushOnly pushes companion files named without any service to deploy.
func pushOnly(ctx context.Context, io stdio, g globals, b backend.Backend, comps map[validate.Kind]validate.FileResult, dryRun bool) (*upload.Result, error) {
	fromFile, file := "", ""
	for _, r := range comps {
		if a := companionApp(r.Config); a != "" && fromFile == "" {
			fromFile, file = a, r.Path
		}
	}
	app := g.targetApp(io, fromFile, file)
	if app == "" {
		return nil, usagef("Expected -A app_id: the files named do not say which application they belong to.")
	}
	set, err := companionSet(app, comps)
	if err != nil {
		return nil, err
	}
	res := &upload.Result{App: app}
	if dryRun {
		// What would be pushed, as a deploy's dry run lists what would be
		// uploaded; the host is not touched.
		res.DryRun, res.Pushed = true, set.Names()
		return res, nil
	}
	if err := set.Unsupported(b); err != nil {
		return nil, err
	}
	rep := newReporter(io, g, false)
	res.Pushed, res.Warnings, err = set.Push(ctx, b, rep)
	finish(rep)
	return res, err
}

// deployService deploys one service and pushes comps after it.
func deployService(ctx context.Context, uo updateOptions, deps deps, b backend.Backend, d *appDir, comps map[validate.Kind]validate.FileResult) (*upload.Result, error) {
	g, io := uo.globals, deps.io
	if n := uo.keepVersions; n < 0 {
		return nil, usagef("option --keep_versions: invalid value: %d (give the number of versions to keep, at least 1)", n)
	}
	g.statusf(io, "Application: %s; service: %s; version: %s", d.appID, d.service, d.version)
	// A host that reads what it holds in the background does so while the
	// files are listed, not only while they are hashed (upload.Deploy
	// asks again; a second call does nothing).
	if p, ok := b.(backend.Prefetcher); ok {
		p.Prefetch(ctx, d.appID)
	}
	opts := upload.Options{
		App: d.appID, Service: d.service, Version: d.version, Runtime: d.app.Runtime,
		Model:  d.app,
		DryRun: uo.dryRun, NoPromote: uo.noPromote,
		HashWorkers: runtime.NumCPU(), UploadWorkers: uo.jobs,
		Cache: d.statCache(),
		Owner: deployOwner(), Stale: staleOwner,

		AllowDeprecatedRuntime: uo.allowDeprecated,
		KeepVersions:           uo.keepVersions,
	}
	if comps != nil {
		var err error
		if opts.Companions, err = companionSet(d.appID, comps); err != nil {
			return nil, err
		}
	}
	files, root, err := selectUploadFiles(ctx, io, g, uo.sel, d, b.Properties(), opts.Cache)
	if err != nil {
		return nil, err
	}
	opts.Files, opts.Root = files, root

	rep := newReporter(io, g, false)
	res, err := upload.Deploy(ctx, b, opts, rep)
	finish(rep)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(io.err, "Interrupted. Run the same update again to resume: contents already sent are not sent again.")
			return nil, errReported
		}
		var le *backend.LockedError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%w\nWait for that deploy to finish, or run `appcfg rollback %s` to release the lock now", err, d.appYAML)
		}
		return nil, err
	}
	return res, nil
}

func printUpdateResult(io stdio, g globals, res *upload.Result) {
	if res.DryRun && res.Version == "" { // companion files only
		fmt.Fprintf(io.out, "Dry run: app %s would be updated: %s\n", res.App, strings.Join(res.Pushed, ", "))
		fmt.Fprintln(io.out, "Nothing was changed on the host.")
		return
	}
	if res.DryRun {
		fmt.Fprintf(io.out, "Dry run: version %s of service %s of app %s would have %d files (%s, %d distinct contents).\n",
			res.Version, res.Service, res.App, res.Files, human.Size(res.Bytes), res.Blobs)
		fmt.Fprintf(io.out, "The host lacks %d of them (%s); they would be uploaded:\n", res.Missing, human.Size(res.MissingBytes))
		for _, p := range res.Uploaded {
			fmt.Fprintf(io.out, "  %s\n", human.Path(p))
		}
		fmt.Fprintln(io.out, "Nothing was changed on the host.")
		return
	}
	if res.Version == "" { // companion files only
		fmt.Fprintf(io.out, "Updated app %s: %s\n", res.App, strings.Join(res.Pushed, ", "))
		return
	}
	switch {
	case res.Missing == 0:
		g.statusf(io, "Uploaded 0 of %d files: the host had every one.", res.Files)
	case res.Missing == res.Blobs:
		g.statusf(io, "Uploaded %d of %d files (%s).", res.Missing, res.Files, human.Size(res.MissingBytes))
	default:
		g.statusf(io, "Uploaded %d of %d files (%s); the host had the rest.", res.Missing, res.Files, human.Size(res.MissingBytes))
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

// companionSet is the companion files comps of app, to push; index.yaml's
// indexes are added as update_indexes adds them.
func companionSet(app string, comps map[validate.Kind]validate.FileResult) (*companion.Set, error) {
	set := &companion.Set{App: app, UpdateIndexes: pushIndexes}
	for _, r := range comps {
		if err := set.Add(r.Path, r.Config); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// pushIndexes adds the indexes the host lacks exactly as update_indexes
// does (definitions compared as the SDK compares them), without waiting
// for them to build.
func pushIndexes(ctx context.Context, im backend.IndexManager, app string, defs *appconfig.IndexDefinitions, rep progress.Reporter) error {
	_, err := indexes.Update(ctx, im, app, defs, indexes.Options{}, rep)
	return err
}
