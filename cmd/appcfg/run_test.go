package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/internal/testtree"
	"github.com/appcfg/appcfg/validate"
)

// testDeps are deps over a local store at root, with the output in
// buffers: what a run function needs, without urfave/cli.
func testDeps(t *testing.T, root string) (deps, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	d := newDeps(stdio{in: strings.NewReader(""), out: &out, err: &errOut})
	d.open = func(ctx context.Context, g globals) (backend.Backend, error) {
		return local.Open(ctx, "local:"+root, local.Config{Root: root}, backend.Env{User: "tester"})
	}
	return d, &out, &errOut
}

// testGlobals are the global settings of a command line that gives none
// but -A and -V.
func testGlobals(app, version string) globals {
	return globals{verbosity: 1, appID: app, version: version, backend: "local"}
}

// deployedStore deploys a one-file app as version v1 of service default of
// app runapp into a new local store with update's run function, and
// returns the store's root.
func deployedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	testtree.Write(t, app, map[string]string{
		"app.yaml":     "application: runapp\nversion: v1\nruntime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  static_dir: static\n",
		"static/a.txt": "a\n",
	})
	root := filepath.Join(dir, "store")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	d, out, _ := testDeps(t, root)
	if err := runUpdate(t.Context(), updateOptions{globals: testGlobals("", ""), args: []string{app}}, d); err != nil {
		t.Fatalf("update: %v", err)
	}
	if want := "Completed update of app: runapp, version: v1\n"; !strings.Contains(out.String(), want) {
		t.Fatalf("update printed %q, want %q", out, want)
	}
	return root
}

func TestRunVersionCommandsWithoutCLI(t *testing.T) {
	ctx := t.Context()
	root := deployedStore(t)

	d, out, _ := testDeps(t, root)
	opts := versionsOptions{globals: testGlobals("runapp", "")}
	if err := runListVersions(ctx, opts, d); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "default:\n- v1  # traffic 100%\n"; got != want {
		t.Errorf("list_versions printed %q, want %q", got, want)
	}

	d, out, _ = testDeps(t, root)
	opts = versionsOptions{globals: testGlobals("runapp", "v1"), status: backend.Stopped}
	if err := runSetServing(ctx, opts, d); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "Version v1 of service default of app runapp is now stopped.\n"; got != want {
		t.Errorf("stop_module_version printed %q, want %q", got, want)
	}
	d, out, _ = testDeps(t, root)
	asJSON := testGlobals("runapp", "")
	asJSON.format = formatJSON
	if err := runListVersions(ctx, versionsOptions{globals: asJSON}, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"serving_status": "STOPPED"`) {
		t.Errorf("list_versions --json after the stop printed %s; want the version STOPPED", out)
	}

	// delete_version takes no DIR and needs -A and -V: a usage error,
	// before the host is opened.
	d, _, _ = testDeps(t, root)
	d.open = func(context.Context, globals) (backend.Backend, error) {
		t.Fatal("the host was opened for a bad command line")
		return nil, nil
	}
	err := runDeleteVersion(ctx, versionsOptions{globals: testGlobals("runapp", "")}, d)
	if code := exitCode(err, &bytes.Buffer{}); code != exitUsage {
		t.Errorf("delete_version without -V: %v (exit %d), want a usage error", err, code)
	}
}

// TestRunCronInfoCountsFromTheClock: cron_info's "from now" is the deps'
// clock, so its output is exact (runs fall on whole minutes: the SDK drops
// the start's seconds).
func TestRunCronInfoCountsFromTheClock(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"cron.yaml": "cron:\n- description: tick\n  url: /tick\n  schedule: every 2 hours\n"})
	d, out, _ := testDeps(t, t.TempDir())
	d.now = func() time.Time { return time.Date(2026, 5, 1, 10, 30, 15, 0, time.UTC) }
	if err := runCronInfo(t.Context(), cronInfoOptions{globals: testGlobals("", ""), args: []string{dir}, numRuns: 2}, d); err != nil {
		t.Fatal(err)
	}
	want := "\ntick:\nURL: /tick\nSchedule: every 2 hours (UTC)\n" +
		"2026-05-01 12:30:00Z, 1:59:45 from now\n2026-05-01 14:30:00Z, 3:59:45 from now\n"
	if out.String() != want {
		t.Errorf("cron_info printed\n%s\nwant\n%s", out, want)
	}
}

// TestRunConfigPushStoresTheDocument: update_cron's run function pushes
// cron.yaml to the host its deps open, under -A.
func TestRunConfigPushStoresTheDocument(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	testtree.Write(t, dir, map[string]string{"cron.yaml": "application: fromfile\ncron:\n- url: /tick\n  schedule: every 2 hours\n"})
	d, out, errOut := testDeps(t, root)
	p := configPush{"update_cron", validate.KindCron, "cron", "job", "Uploading cron entries."}
	if err := runConfigPush(t.Context(), configPushOptions{globals: testGlobals("runapp", ""), args: []string{dir}, push: p}, d); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "Updated the cron configuration of app runapp from cron.yaml (1 job).\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := errOut.String(), "Uploading cron entries.\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	doc := storedConfigs(t, root, "runapp", []backend.ConfigKind{backend.ConfigCron})[backend.ConfigCron]
	if want := "cron:\n    - url: /tick\n      schedule: every 2 hours\n"; string(doc) != want {
		t.Errorf("stored %q, want %q", doc, want)
	}
}

// TestRunIndexCommands: update_indexes' run function adds index.yaml's
// index, and vacuum_indexes' (forced) deletes it once index.yaml drops it.
func TestRunIndexCommands(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	testtree.Write(t, dir, map[string]string{"index.yaml": "indexes:\n- kind: Greeting\n  properties:\n  - name: date\n    direction: desc\n  - name: author\n"})
	d, out, _ := testDeps(t, root)
	opts := indexOptions{globals: testGlobals("ixapp", ""), args: []string{dir}, timeout: time.Minute}
	if err := runUpdateIndexes(t.Context(), opts, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(added)") || !strings.Contains(out.String(), "1 index in index.yaml: 1 added") {
		t.Fatalf("update_indexes printed:\n%s", out)
	}
	testtree.Write(t, dir, map[string]string{"index.yaml": "indexes: []\n"})
	d, out, _ = testDeps(t, root)
	opts.force = true
	if err := runVacuumIndexes(t.Context(), opts, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 index deleted, 0 kept.") {
		t.Fatalf("vacuum_indexes --force printed:\n%s", out)
	}
}

// TestRunUpdateDryRunChangesNothing: update --dry-run's run function
// prints the plan and the host its deps open gets no version.
func TestRunUpdateDryRunChangesNothing(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{
		"app/app.yaml":     "application: dryapp\nversion: v1\nruntime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  static_dir: static\n",
		"app/static/a.txt": "a\n", "app/static/b.txt": "bb\n",
	})
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	root := filepath.Join(dir, "store")
	d, out, _ := testDeps(t, root)
	opts := updateOptions{globals: testGlobals("", ""), args: []string{filepath.Join(dir, "app")}, dryRun: true}
	if err := runUpdate(t.Context(), opts, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Dry run: version v1 of service default of app dryapp would have 3 files") ||
		!strings.Contains(out.String(), "Nothing was changed on the host.") {
		t.Errorf("update --dry-run printed:\n%s", out)
	}
	d, out, _ = testDeps(t, root)
	if err := runListVersions(t.Context(), versionsOptions{globals: testGlobals("dryapp", "")}, d); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "No versions uploaded for app: dryapp.\n"; got != want {
		t.Errorf("after a dry run list_versions printed %q, want %q", got, want)
	}
}

// TestRunLsFilesSkipped: ls_files' run function lists what skip_files
// drops, with the rule that dropped it.
func TestRunLsFilesSkipped(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{
		"app.yaml": "application: lsapp\nruntime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  script: main.app\nskip_files:\n- ^notes\\.txt$\n",
		"main.py":  "app = None\n", "notes.txt": "x\n",
	})
	d, out, _ := testDeps(t, t.TempDir())
	opts := lsFilesOptions{globals: testGlobals("", ""), dir: dir}
	if err := runLsFiles(t.Context(), opts, d); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "app.yaml\nmain.py\n" {
		t.Errorf("ls_files printed %q, want app.yaml and main.py", got)
	}
	d, out, _ = testDeps(t, t.TempDir())
	opts.skipped = true
	if err := runLsFiles(t.Context(), opts, d); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "notes.txt\t") || !strings.Contains(got, `^notes\.txt$`) {
		t.Errorf("ls_files --skipped printed %q, want notes.txt and its rule", got)
	}
}

// TestRunBulkloadChecksBeforeTheHost: upload_data's run function refuses
// a missing --filename as a usage error without opening the host.
func TestRunBulkloadChecksBeforeTheHost(t *testing.T) {
	d, _, _ := testDeps(t, t.TempDir())
	d.open = func(context.Context, globals) (backend.Backend, error) {
		t.Fatal("the host was opened for a bad command line")
		return nil, nil
	}
	opts := bulkloadOptions{globals: testGlobals("bulkapp", ""), limitsGiven: map[string]bool{}}
	opts.bulk.BatchSize = 10
	err := runBulkload(t.Context(), opts, d)
	if code := exitCode(err, &bytes.Buffer{}); code != exitUsage || !strings.Contains(err.Error(), "filename") {
		t.Errorf("upload_data without --filename: %v (exit %d), want a usage error naming filename", err, code)
	}
}

// TestRunValidateReportsEveryProblem: validate's run function names the
// file and line of a bad value and fails.
func TestRunValidateReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"cron.yaml": "cron:\n- url: /a\n  schedule: every 5 fortnights\n"})
	d, out, errOut := testDeps(t, t.TempDir())
	err := runValidate(t.Context(), validateCmdOptions{globals: testGlobals("", ""), paths: []string{filepath.Join(dir, "cron.yaml")}}, d)
	if err == nil || !strings.Contains(out.String(), "cron.yaml:3:") || !strings.Contains(out.String(), "fortnights") ||
		!strings.Contains(errOut.String(), "1 error in 1 file") {
		t.Errorf("validate returned %v and printed %q, %q; want cron.yaml:3, the bad schedule and the count", err, out, errOut)
	}
}
