package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
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
// app runapp into a new local store and returns the store's root.
func deployedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"app.yaml":     "application: runapp\nversion: v1\nruntime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  static_dir: static\n",
		"static/a.txt": "a\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(app, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(app, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "store")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	if code, _, stderr := runCLI(t, "--backend", "local:"+root, "-q", "update", app); code != exitOK {
		t.Fatalf("update: exit %d: %s", code, stderr)
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
