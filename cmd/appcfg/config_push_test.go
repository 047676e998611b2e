package main

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/internal/testtree"
)

// TestUpdateAndUpdateCronPushTheSameDocuments deploys one app with update,
// reads each companion configuration the host stored, pushes the same
// files again with update_cron/update_queues/update_dos/update_dispatch and
// checks the host holds the very same bytes: both paths send one document
// form (issue 18.4; update once kept cron.yaml's application: key, which
// update_cron strips).
func TestUpdateAndUpdateCronPushTheSameDocuments(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	files := map[string]string{
		"app.yaml":      "application: pushapp\nversion: v1\nruntime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  script: main.app\n",
		"main.py":       "app = None\n",
		"cron.yaml":     "application: pushapp\ncron:\n- description: daily\n  url: /tasks/daily\n  schedule: every 24 hours\n",
		"queue.yaml":    "application: pushapp\nqueue:\n- name: mail\n  rate: 5/s\n",
		"dos.yaml":      "application: pushapp\nblacklist:\n- subnet: 192.0.2.0/24\n",
		"dispatch.yaml": "dispatch:\n- url: \"*/favicon.ico\"\n  service: default\n",
	}
	testtree.Write(t, app, files)
	store := filepath.Join(dir, "store")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	kinds := []backend.ConfigKind{backend.ConfigCron, backend.ConfigQueue, backend.ConfigDOS, backend.ConfigDispatch}
	if code, _, stderr := runCLI(t, "--backend", "local:"+store, "-q", "update", app); code != exitOK {
		t.Fatalf("update: exit %d: %s", code, stderr)
	}
	byUpdate := storedConfigs(t, store, "pushapp", kinds)
	for _, k := range kinds {
		if code, _, stderr := runCLI(t, "--backend", "local:"+store, "-q", "update_"+map[backend.ConfigKind]string{
			backend.ConfigCron: "cron", backend.ConfigQueue: "queues", backend.ConfigDOS: "dos", backend.ConfigDispatch: "dispatch"}[k], app); code != exitOK {
			t.Fatalf("update_%s: exit %d: %s", k, code, stderr)
		}
	}
	byPush := storedConfigs(t, store, "pushapp", kinds)
	for _, k := range kinds {
		if string(byUpdate[k]) != string(byPush[k]) {
			t.Errorf("%s: update stored\n%s\nupdate_%s stored\n%s", k, byUpdate[k], k, byPush[k])
		}
	}
}

// storedConfigs reads the configuration documents of app from the local
// store at root.
func storedConfigs(t *testing.T, root, app string, kinds []backend.ConfigKind) map[backend.ConfigKind][]byte {
	t.Helper()
	b, err := local.Open(t.Context(), "", local.Config{Root: root}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	docs := map[backend.ConfigKind][]byte{}
	for _, k := range kinds {
		if docs[k], err = b.Config(t.Context(), app, k); err != nil {
			t.Fatalf("reading the stored %s configuration: %v", k, err)
		}
	}
	return docs
}

// TestUpdateDryRunOfCompanionFilesPushesNothing: update --dry-run naming
// only companion files says what it would push and leaves the host as it
// was (it once pushed them).
func TestUpdateDryRunOfCompanionFilesPushesNothing(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	testtree.Write(t, dir, map[string]string{"cron.yaml": "application: dryapp\ncron:\n- url: /a\n  schedule: every 5 minutes\n"})
	d, out, _ := testDeps(t, root)
	opts := updateOptions{globals: testGlobals("", ""), args: []string{filepath.Join(dir, "cron.yaml")}, dryRun: true}
	if err := runUpdate(t.Context(), opts, d); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "Dry run: app dryapp would be updated: cron\nNothing was changed on the host.\n"; got != want {
		t.Errorf("update --dry-run cron.yaml printed %q, want %q", got, want)
	}
	b, err := local.Open(t.Context(), "", local.Config{Root: root}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if doc, err := b.Config(t.Context(), "dryapp", backend.ConfigCron); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("after a dry run the host holds cron %q (err %v); want none", doc, err)
	}
}
