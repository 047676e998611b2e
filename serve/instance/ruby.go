package instance

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/appcfg/appcfg/internal/runtimes"
)

// ruby returns how to start a ruby version: its entrypoint (App Engine has
// no default for Ruby), with Gemfile's gems installed first when it has a
// Gemfile.
func (m *Manager) ruby(ctx context.Context, s Spec) (launch, error) {
	l := launch{shell: s.Entrypoint, env: map[string]string{}}
	if l.shell == "" {
		// ../shared/docs/runtimes.md §2, in its words.
		return l, fmt.Errorf("%s is %s, and App Engine's Ruby runtimes have no default command: entrypoint is required; %s",
			s.Key, s.Runtime, runtimes.EntrypointHint)
	}
	if exists(s.Dir, "Gemfile") {
		gemfile, gems, err := m.rubyGems(ctx, s)
		if err != nil {
			return l, err
		}
		l.env["BUNDLE_GEMFILE"] = gemfile
		l.env["BUNDLE_PATH"] = gems
		l.env["BUNDLE_WITHOUT"] = bundleWithout
	}
	return l, nil
}

// bundleWithout are the Gemfile groups left out, as App Engine's build
// leaves them out.
const bundleWithout = "development:test"

// rubyGems installs Gemfile's gems (bundle install) once per Gemfile and
// Gemfile.lock content, in a cache directory holding a copy of both (the
// app's files are read-only, and bundler writes the lock it resolves);
// it returns that Gemfile and the gems' directory.
func (m *Manager) rubyGems(ctx context.Context, s Spec) (gemfile, gems string, err error) {
	dir, _, err := m.installOnce(s, "ruby", "Gemfile", "Gemfile.lock", func(dir, file string) error {
		bs := s
		bs.BuildEnv = map[string]string{}
		for k, v := range s.BuildEnv {
			bs.BuildEnv[k] = v
		}
		bs.BuildEnv["BUNDLE_GEMFILE"], bs.BuildEnv["BUNDLE_PATH"], bs.BuildEnv["BUNDLE_WITHOUT"] = filepath.Join(dir, "Gemfile"), filepath.Join(dir, "bundle"), bundleWithout
		return m.run(ctx, bs, file, dir, "bundle", "install")
	})
	return filepath.Join(dir, "Gemfile"), filepath.Join(dir, "bundle"), err
}
