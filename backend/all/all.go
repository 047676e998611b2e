package all

import (
	"errors"
	"path/filepath"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/appengine"
	"github.com/appcfg/appcfg/backend/datastore"
	"github.com/appcfg/appcfg/backend/local"
)

// Options are the per-scheme settings the command line chose, each handed
// to its backend's factory (as restic passes each backend its own options
// struct): typed, and never carried in a context.
type Options struct {
	AppEngine appengine.Settings
}

// Registry returns a registry holding every backend implementation, each
// factory built with its part of o.
func Registry(o Options) *backend.Registry {
	return backend.NewRegistry(
		local.NewFactory(),
		datastore.NewFactory(),
		appengine.NewFactory(o.AppEngine),
	)
}

// DefaultDataDir returns where the local backend keeps its store when the
// location names no path: $XDG_DATA_HOME/appcfg, else
// $HOME/.local/share/appcfg. getenv is os.Getenv in production; tests pass
// their own. A relative $XDG_DATA_HOME is ignored, as the XDG base directory
// specification requires.
func DefaultDataDir(getenv func(string) string) (string, error) {
	if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "appcfg"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "appcfg"), nil
	}
	return "", errors.New("cannot find a data directory for the local backend: neither $XDG_DATA_HOME nor $HOME is set; set one, or name a store with --backend local:PATH")
}
