package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTargetApp writes a small python312 app whose app.yaml names
// application (none when "").
func writeTargetApp(t *testing.T, application string) string {
	t.Helper()
	dir := t.TempDir()
	yaml := "runtime: python312\n"
	if application != "" {
		yaml = "application: " + application + "\n" + yaml
	}
	for name, data := range map[string]string{"app.yaml": yaml, "main.py": "print(1)\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestTargetProjectFromLocation: the project the --backend location names
// wins over app.yaml's application: (with a warning naming both), and no
// request ever names the app.yaml id; the status lines and --json name the
// project actually used.
func TestTargetProjectFromLocation(t *testing.T) {
	f := newFakeGoogle(t)
	f.env(t)
	dir := writeTargetApp(t, "a1")
	code, stdout, stderr := runCLI(t, "update", dir, "--backend", "appengine://staging-proj", "-V", "v1")
	if code != exitOK {
		t.Fatalf("update: exit %d\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "names application a1") || !strings.Contains(stderr, "names project staging-proj") {
		t.Errorf("stderr lacks the warning naming both ids:\n%s", stderr)
	}
	if !strings.Contains(stderr, "Application: staging-proj;") || !strings.Contains(stderr, "Host: appengine://staging-proj") {
		t.Errorf("status lines do not name staging-proj:\n%s", stderr)
	}
	if !strings.Contains(stdout, "Completed update of app: staging-proj, version: v1") {
		t.Errorf("stdout %q does not name staging-proj", stdout)
	}
	code, stdout, stderr = runCLI(t, "update", dir, "--backend", "appengine://staging-proj", "-V", "v2", "--json")
	if code != exitOK {
		t.Fatalf("update --json: exit %d\nstderr:\n%s", code, stderr)
	}
	var res struct{ App string }
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.App != "staging-proj" {
		t.Errorf("--json names app %q (%v), want staging-proj:\n%s", res.App, err, stdout)
	}
	// Every command that takes --backend follows the same rule.
	for _, args := range [][]string{
		{"list_versions", dir},
		{"set_default_version", dir, "-V", "v1"},
		{"stop_module_version", dir, "-V", "v1"},
		{"update_indexes", dir},
	} {
		if code, _, stderr := runCLI(t, append(args, "--backend", "appengine://staging-proj")...); code != exitOK {
			t.Errorf("%s: exit %d\n%s", args[0], code, stderr)
		}
	}
	calls := f.callLog()
	if len(calls) == 0 {
		t.Fatal("the fake saw no request")
	}
	for _, c := range calls {
		if strings.Contains(c, "a1") {
			t.Errorf("request %q names the app.yaml id a1", c)
		}
	}
	if !strings.Contains(strings.Join(calls, "\n"), "POST /v1/apps/staging-proj/services/default/versions") {
		t.Errorf("no version was created in staging-proj; calls:\n%s", strings.Join(calls, "\n"))
	}
}

// TestTargetProjectContradiction: -A naming another project than the
// location is a usage error before any request.
func TestTargetProjectContradiction(t *testing.T) {
	f := newFakeGoogle(t)
	f.env(t)
	dir := writeTargetApp(t, "a1")
	for _, args := range [][]string{
		{"update", dir, "-A", "a1", "-V", "v1"},
		{"list_versions", "-A", "a1"},
		{"delete_version", "-A", "a1", "-V", "v1"},
		{"request_logs", "-A", "a1", "-V", "v1", "-"},
		{"download_app", "-A", "a1"},
		{"download_app", "a1", filepath.Join(t.TempDir(), "out")},
	} {
		code, _, stderr := runCLI(t, append(args, "--backend", "appengine://staging-proj")...)
		if code != exitUsage || !strings.Contains(stderr, "-A a1 contradicts --backend appengine://staging-proj") {
			t.Errorf("%s: exit %d, want %d with the contradiction named; stderr:\n%s", args[0], code, exitUsage, stderr)
		}
	}
	for _, args := range [][]string{
		{"upload_data", "-A", "a1", "--filename", "x.csv", "--kind", "K"},
		{"list_versions", dir, "-A", "a1"},
	} {
		code, _, stderr := runCLI(t, append(args, "--backend", "datastore://staging-proj?endpoint=127.0.0.1:1")...)
		if code != exitUsage || !strings.Contains(stderr, "-A a1 contradicts --backend datastore://staging-proj") {
			t.Errorf("%s: exit %d, want %d with the contradiction named; stderr:\n%s", args[0], code, exitUsage, stderr)
		}
	}
	// The same project in both is no contradiction.
	if code, _, stderr := runCLI(t, "update", dir, "-A", "staging-proj", "-V", "v1", "--backend", "appengine://staging-proj"); code != exitOK {
		t.Errorf("update -A staging-proj: exit %d\n%s", code, stderr)
	}
	for _, c := range f.callLog() {
		if strings.Contains(c, "a1") {
			t.Errorf("request %q names a1", c)
		}
	}
}

// TestTargetProjectNeedsNoA: with no application: in app.yaml, the
// location's project is the application; -A is not needed (issue 20.5).
func TestTargetProjectNeedsNoA(t *testing.T) {
	f := newFakeGoogle(t)
	f.env(t)
	dir := writeTargetApp(t, "")
	code, stdout, stderr := runCLI(t, "update", dir, "--backend", "appengine://p", "-V", "v1")
	if code != exitOK {
		t.Fatalf("update: exit %d\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "Completed update of app: p, version: v1") || strings.Contains(stderr, "warning") {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "list_versions", "--backend", "appengine://p"); code != exitOK {
		t.Errorf("list_versions with no DIR and no -A: exit %d\n%s", code, stderr)
	}
}
