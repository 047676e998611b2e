//go:build unix

package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appcfg/appcfg/appconfig"
)

// within fails the test when fn has not returned after a few seconds: a
// named pipe opened for reading waits for a writer forever.
func within(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("blocked reading a named pipe")
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

func findProblem(ps []appconfig.Problem, sub string) (appconfig.Problem, bool) {
	for _, p := range ps {
		if strings.Contains(p.Message, sub) {
			return p, true
		}
	}
	return appconfig.Problem{}, false
}

// A named pipe where cron.yaml belongs was skipped without a word. appcfg.py
// ignores it too (os.path.isfile), so it stays ignored, with a warning that
// says why; nothing is read from the pipe.
func TestCompanionNamedPipeWarns(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("runtime: go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, filepath.Join(dir, "cron.yaml"))
	var results []FileResult
	var err error
	within(t, func() { results, err = Dir(context.Background(), dir, Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	var cron *FileResult
	for i := range results {
		if results[i].Kind == KindCron {
			cron = &results[i]
		}
	}
	if cron == nil {
		t.Fatalf("cron.yaml (a named pipe) is not reported: %+v", results)
	}
	p, ok := findProblem(cron.Problems, "not a regular file")
	if !ok || !p.Warning || !strings.Contains(p.Message, "named pipe") || cron.Config != nil || !cron.OK() {
		t.Errorf("cron.yaml, a named pipe: %+v; want one warning naming a named pipe, no configuration", cron)
	}
}

// app.yaml itself, or a file given to validate, that is a pipe is an error
// at once, not a wait for a writer.
func TestAppNamedPipeIsAnError(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	mkfifo(t, app)
	var res FileResult
	within(t, func() { res = File(context.Background(), app, KindApp, Options{}) })
	if p, ok := findProblem(res.Problems, "not a regular file"); !ok || p.Warning {
		t.Errorf("app.yaml, a named pipe: %+v; want an error saying it is not a regular file", res.Problems)
	}
}

// An include that is a named pipe or a device was "could not be found",
// although it is there: say what it is.
func TestIncludeNotRegular(t *testing.T) {
	dir := t.TempDir()
	mkfifo(t, filepath.Join(dir, "pipe.yaml"))
	app := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(app, []byte("runtime: go\nincludes:\n- pipe.yaml\n- /dev/urandom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var res FileResult
	within(t, func() { res = File(context.Background(), app, KindApp, Options{}) })
	for _, want := range []string{"File pipe.yaml listed in includes directive of " + app + " is a named pipe (FIFO), not a regular file",
		"File /dev/urandom listed in includes directive of " + app + " is a character device, not a regular file"} {
		if p, ok := findProblem(res.Problems, want); !ok || p.Warning {
			t.Errorf("want an error %q, got %+v", want, res.Problems)
		}
	}
	if _, ok := findProblem(res.Problems, "could not be found"); ok {
		t.Errorf("an include that exists is reported as not found: %+v", res.Problems)
	}
}
