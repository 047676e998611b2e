package instance

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// App Engine's Ruby runtimes have no default command: a version without
// an entrypoint is refused with runtimes.md's words.
func TestRubyNeedsEntrypoint(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"config.ru": "run ->(env) { [200, {}, ['hi']] }\n"})
	m, err := NewManager(Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.prepare(t.Context(), Spec{Key: Key{Service: "default", Version: "v1"}, Runtime: "ruby33", Dir: dir})
	want := "version v1 of service default is ruby33, and App Engine's Ruby runtimes have no default command: entrypoint is required. " +
		"It must start a process serving $PORT, e.g. `entrypoint: bundle exec rackup -s Puma -p $PORT`"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// Gemfile's gems are installed with bundle install once per Gemfile and
// Gemfile.lock content, into the cache; the instance finds them through
// BUNDLE_GEMFILE and BUNDLE_PATH.
func TestBundleInstallOncePerLock(t *testing.T) {
	calls := fakeTool(t, "bundle", `echo "gemfile=$BUNDLE_GEMFILE path=$BUNDLE_PATH without=$BUNDLE_WITHOUT pwd=$(pwd)" >> "$(dirname "$0")/calls"`)
	m, err := NewManager(Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	app := map[string]string{"Gemfile": "source 'https://rubygems.org'\ngem 'puma'\n", "Gemfile.lock": "GEM\n  specs:\n    puma (6.4.2)\n", "config.ru": "run App\n"}
	var envs []map[string]string
	for _, d := range []string{"d1", "d2"} {
		dir := filepath.Join(t.TempDir(), d)
		writeFiles(t, dir, app)
		l, err := m.prepare(t.Context(), Spec{Key: Key{Service: "default", Version: d}, Runtime: "ruby33",
			Entrypoint: "exec bundle exec rackup -s Puma -p $PORT", Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if l.shell != "exec bundle exec rackup -s Puma -p $PORT" {
			t.Errorf("shell %q, want the entrypoint", l.shell)
		}
		envs = append(envs, l.env)
	}
	got := readCalls(t, calls)
	if len(got) != 2 || got[0] != "install" {
		t.Fatalf("bundle ran %q, want one install", got)
	}
	gemfile, path := envs[0]["BUNDLE_GEMFILE"], envs[0]["BUNDLE_PATH"]
	if envs[1]["BUNDLE_GEMFILE"] != gemfile || envs[1]["BUNDLE_PATH"] != path {
		t.Errorf("the two deployments of one Gemfile.lock use %v and %v", envs[0], envs[1])
	}
	if !strings.HasPrefix(gemfile, m.cfg.CacheDir) || filepath.Base(gemfile) != "Gemfile" || !exists(filepath.Dir(gemfile), "Gemfile.lock") ||
		!strings.HasPrefix(path, filepath.Dir(gemfile)) {
		t.Errorf("BUNDLE_GEMFILE=%s BUNDLE_PATH=%s: want the cache's copy of Gemfile and Gemfile.lock, gems beside it", gemfile, path)
	}
	wantEnv := "gemfile=" + gemfile + " path=" + path + " without=development:test pwd=" + filepath.Dir(gemfile)
	if got[1] != wantEnv {
		t.Errorf("bundle install ran with %q, want %q", got[1], wantEnv)
	}
}

// A bundle install that fails, or no bundler at all, is an InstallError
// naming Gemfile.lock and the command, and leaves no cache behind.
func TestBundleFailureNamesFileAndCommand(t *testing.T) {
	for _, tc := range []struct{ name, bundle, reason string }{
		{"fails", "echo 'Could not find gem puma in rubygems repository' >&2; exit 7", "Could not find gem puma"},
		{"absent", "", "executable file not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bundle != "" {
				fakeTool(t, "bundle", tc.bundle)
			} else {
				t.Setenv("PATH", t.TempDir())
			}
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"Gemfile": "gem 'puma'\n", "Gemfile.lock": "GEM\n"})
			m, err := NewManager(Config{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			_, err = m.prepare(t.Context(), Spec{Key: Key{Service: "default", Version: "v1"}, Runtime: "ruby33", Entrypoint: "exec ruby app.rb", Dir: dir})
			var ie *InstallError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InstallError", err)
			}
			if ie.File != "Gemfile.lock" || ie.Command != "bundle install" || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q: want Gemfile.lock, `bundle install` and %q", err, tc.reason)
			}
			if left, _ := filepath.Glob(filepath.Join(m.cfg.CacheDir, "ruby", "*")); len(left) != 0 {
				t.Errorf("the failed install left %v", left)
			}
		})
	}
}

// Without Gemfile.lock, bundle install resolves Gemfile (in the cache's
// copy, as the app's files are read-only), and the error names Gemfile.
func TestBundleWithoutLock(t *testing.T) {
	fakeTool(t, "bundle", "exit 1")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Gemfile": "gem 'puma'\n"})
	m, err := NewManager(Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.prepare(t.Context(), Spec{Key: Key{Service: "default", Version: "v1"}, Runtime: "ruby33", Entrypoint: "exec ruby app.rb", Dir: dir})
	var ie *InstallError
	if !errors.As(err, &ie) || ie.File != "Gemfile" {
		t.Errorf("err = %v, want an InstallError naming Gemfile", err)
	}
}
