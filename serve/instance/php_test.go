package instance

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/internal/testtree"
)

func TestPHPCommand(t *testing.T) {
	k := Key{Service: "default", Version: "v1"}
	tests := []struct {
		name       string
		files      []string
		entrypoint string
		shell      string // "" when the entrypoint runs as given
		workers    string
		err        string
	}{
		{name: "public/index.php first", files: []string{"public/index.php", "index.php"},
			shell: `exec php -d error_log=/dev/stderr -S 127.0.0.1:$PORT -q -t 'public' 'public/index.php'`},
		{name: "else index.php", files: []string{"index.php", "lib/x.php"},
			shell: `exec php -d error_log=/dev/stderr -S 127.0.0.1:$PORT -q -t '.' 'index.php'`},
		{name: "no front controller", files: []string{"main.php"},
			err: "has no entrypoint, so App Engine runs public/index.php (or else index.php) as its front controller, and it has neither"},
		{name: "serve with a path", files: []string{"web/app.php"}, entrypoint: "exec serve web/app.php",
			shell: `exec php -d error_log=/dev/stderr -S 127.0.0.1:$PORT -q -t 'web' 'web/app.php'`},
		{name: "serve with flags", files: []string{"web/app.php"}, entrypoint: "exec serve --workers=3 --enable-dynamic-workers web/app.php",
			shell: `exec php -d error_log=/dev/stderr -S 127.0.0.1:$PORT -q -t 'web' 'web/app.php'`, workers: "3"},
		{name: "serve --workers N", files: []string{"front.php"}, entrypoint: "exec serve --workers 4 front.php",
			shell: `exec php -d error_log=/dev/stderr -S 127.0.0.1:$PORT -q -t '.' 'front.php'`, workers: "4"},
		{name: "serve of a missing file", files: []string{"index.php"}, entrypoint: "exec serve web/app.php",
			err: "names the front controller web/app.php, which the version does not have"},
		{name: "serve without a path", files: []string{"index.php"}, entrypoint: "exec serve --workers=2",
			err: "App Engine's form is `serve [--workers=N] [--enable-dynamic-workers] path/to/front.php`"},
		{name: "a worker runs as given", files: []string{"worker.php"}, entrypoint: "exec php worker.php"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for _, f := range tt.files {
				files[f] = "<?php\n"
			}
			testtree.Write(t, dir, files)
			l, err := phpCommand(k, dir, tt.entrypoint)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.shell != tt.shell || l.env["PHP_CLI_SERVER_WORKERS"] != tt.workers {
				t.Errorf("shell %q workers %q, want %q %q", l.shell, l.env["PHP_CLI_SERVER_WORKERS"], tt.shell, tt.workers)
			}
		})
	}
}

// fakeTool puts an executable shell script named name first on PATH; it
// appends its arguments to calls, then runs body.
func fakeTool(t *testing.T, name, body string) (calls string) {
	t.Helper()
	bin := t.TempDir()
	calls = filepath.Join(bin, "calls")
	script := "#!/bin/sh\necho \"$*\" >> '" + calls + "'\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return calls
}

func readCalls(t *testing.T, calls string) []string {
	t.Helper()
	data, err := os.ReadFile(calls)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// composer.json's packages are installed once per composer.lock content;
// each deployment gets a tree of its files and vendor/ with its own
// autoloader, and the cached vendor/composer is left as installed.
func TestComposerInstallOncePerLock(t *testing.T) {
	calls := fakeTool(t, "composer", `case "$1" in
install) mkdir -p vendor/acme/lib vendor/composer && echo 'lib' > vendor/acme/lib/Lib.php && echo installed > vendor/composer/installed.json ;;
dump-autoload) echo "<?php // autoload of $(ls src 2>/dev/null)" > vendor/autoload.php && echo dumped > vendor/composer/installed.json ;;
esac`)
	m := newTestManager(t)
	app := map[string]string{"composer.json": `{"require": {"acme/lib": "1.0"}}`, "composer.lock": `{"packages": []}`,
		"public/index.php": "<?php require __DIR__ . '/../vendor/autoload.php';\n", "src/App.php": "<?php\n"}
	deployments := []string{"d1", "d2"}
	var trees []string
	for _, d := range deployments {
		dir := filepath.Join(t.TempDir(), d)
		testtree.Write(t, dir, app)
		s := Spec{Key: Key{Service: "default", Version: d}, Runtime: "php83", Dir: dir}
		l, err := m.php(t.Context(), s, os.Getenv("PATH"))
		if err != nil {
			t.Fatal(err)
		}
		tree, _, ok := strings.Cut(strings.TrimPrefix(l.shell, "cd '"), "' && ")
		if !ok || !strings.HasSuffix(l.shell, `-t 'public' 'public/index.php'`) {
			t.Fatalf("shell %q: want a cd into the tree, then the front controller", l.shell)
		}
		trees = append(trees, tree)
		for _, f := range []string{"public/index.php", "src/App.php", "vendor/acme/lib/Lib.php", "vendor/autoload.php"} {
			if !exists(tree, f) {
				t.Errorf("%s: the tree lacks %s", d, f)
			}
		}
	}
	if trees[0] == trees[1] {
		t.Errorf("two deployments share the tree %s", trees[0])
	}
	got := readCalls(t, calls)
	want := []string{"install --no-dev --no-interaction --no-progress --no-scripts --no-autoloader",
		"dump-autoload --no-dev --optimize --no-interaction", "dump-autoload --no-dev --optimize --no-interaction"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("composer ran:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cached, _ := filepath.Glob(filepath.Join(m.cfg.CacheDir, "php", "*", "vendor", "composer", "installed.json"))
	if len(cached) != 1 {
		t.Fatalf("cached installs: %v, want one", cached)
	}
	if data, _ := os.ReadFile(cached[0]); string(data) != "installed\n" {
		t.Errorf("the cached vendor/composer was changed by a dump: %q", data)
	}

	// A new lock is a new install.
	dir := filepath.Join(t.TempDir(), "d3")
	app["composer.lock"] = `{"packages": [{"name": "acme/lib"}]}`
	testtree.Write(t, dir, app)
	if _, err := m.php(t.Context(), Spec{Key: Key{Service: "default", Version: "d3"}, Runtime: "php83", Dir: dir}, os.Getenv("PATH")); err != nil {
		t.Fatal(err)
	}
	if got := readCalls(t, calls); len(got) != 5 || !strings.HasPrefix(got[3], "install ") {
		t.Errorf("after a lock change composer ran %q, want a second install", got)
	}
}

// newTestManager is a manager with its own cache, closed with the test.
func newTestManager(t *testing.T) *Manager {
	t.Helper()
	m, err := NewManager(Config{CacheDir: t.TempDir(), StartTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// An install that fails, or whose tool is not installed, is an
// InstallError naming the lock file and the command, and leaves no cache
// behind: composer for composer.json, bundle for a Gemfile.
func TestInstallToolFailureNamesFileAndCommand(t *testing.T) {
	type tool struct {
		name, kind, failure, reason, file, command string
		files                                      map[string]string
		spec                                       Spec
	}
	tools := []tool{
		{name: "composer", kind: "php", failure: "echo 'Your requirements could not be resolved' >&2; exit 2", reason: "could not be resolved",
			file: "composer.lock", command: "composer install --no-dev --no-interaction --no-progress --no-scripts --no-autoloader",
			files: map[string]string{"composer.json": `{}`, "composer.lock": `{}`, "index.php": "<?php\n"},
			spec:  Spec{Runtime: "php83", Entrypoint: "exec php index.php"}},
		{name: "bundle", kind: "ruby", failure: "echo 'Could not find gem puma in rubygems repository' >&2; exit 7", reason: "Could not find gem puma",
			file: "Gemfile.lock", command: "bundle install",
			files: map[string]string{"Gemfile": "gem 'puma'\n", "Gemfile.lock": "GEM\n"},
			spec:  Spec{Runtime: "ruby33", Entrypoint: "exec ruby app.rb"}},
	}
	for _, tl := range tools {
		for _, absent := range []bool{false, true} {
			name := tl.name + " fails"
			if absent {
				name = tl.name + " absent"
			}
			t.Run(name, func(t *testing.T) {
				reason := tl.reason
				if absent {
					t.Setenv("PATH", t.TempDir())
					reason = "executable file not found"
				} else {
					fakeTool(t, tl.name, tl.failure)
				}
				s := tl.spec
				s.Key, s.Dir = Key{Service: "default", Version: "v1"}, t.TempDir()
				testtree.Write(t, s.Dir, tl.files)
				m := newTestManager(t)
				_, err := m.prepare(t.Context(), s)
				var ie *InstallError
				if !errors.As(err, &ie) {
					t.Fatalf("err = %v, want an InstallError", err)
				}
				if ie.File != tl.file || ie.Command != tl.command || !strings.Contains(err.Error(), reason) {
					t.Errorf("error %q: want %s, `%s` and %q", err, tl.file, tl.command, reason)
				}
				if left, _ := filepath.Glob(filepath.Join(m.cfg.CacheDir, tl.kind, "*")); len(left) != 0 {
					t.Errorf("the failed install left %v", left)
				}
			})
		}
	}
}
