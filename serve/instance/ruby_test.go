package instance

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/testtree"
)

// App Engine's Ruby runtimes have no default command: a version without
// an entrypoint is refused with runtimes.md's words.
func TestRubyNeedsEntrypoint(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"config.ru": "run ->(env) { [200, {}, ['hi']] }\n"})
	m := newTestManager(t)
	_, err := m.prepare(t.Context(), Spec{Key: Key{Service: "default", Version: "v1"}, Runtime: "ruby33", Dir: dir})
	want := "version v1 of service default is ruby33, and App Engine's Ruby runtimes have no default command: entrypoint is required; " +
		"it must start a process serving $PORT, e.g. `entrypoint: bundle exec rackup -s Puma -p $PORT`"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// Gemfile's gems are installed with bundle install once per Gemfile and
// Gemfile.lock content, into the cache; the instance finds them through
// BUNDLE_GEMFILE and BUNDLE_PATH.
func TestBundleInstallOncePerLock(t *testing.T) {
	calls := fakeTool(t, "bundle", `echo "gemfile=$BUNDLE_GEMFILE path=$BUNDLE_PATH without=$BUNDLE_WITHOUT pwd=$(pwd)" >> "$(dirname "$0")/calls"`)
	m := newTestManager(t)
	app := map[string]string{"Gemfile": "source 'https://rubygems.org'\ngem 'puma'\n", "Gemfile.lock": "GEM\n  specs:\n    puma (6.4.2)\n", "config.ru": "run App\n"}
	var envs []map[string]string
	for _, d := range []string{"d1", "d2"} {
		dir := filepath.Join(t.TempDir(), d)
		testtree.Write(t, dir, app)
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

// Without Gemfile.lock, bundle install resolves Gemfile (in the cache's
// copy, as the app's files are read-only), and the error names Gemfile.
func TestBundleWithoutLock(t *testing.T) {
	fakeTool(t, "bundle", "exit 1")
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"Gemfile": "gem 'puma'\n"})
	m := newTestManager(t)
	_, err := m.prepare(t.Context(), Spec{Key: Key{Service: "default", Version: "v1"}, Runtime: "ruby33", Entrypoint: "exec ruby app.rb", Dir: dir})
	var ie *InstallError
	if !errors.As(err, &ie) || ie.File != "Gemfile" {
		t.Errorf("err = %v, want an InstallError naming Gemfile", err)
	}
}
