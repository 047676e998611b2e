package local

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/appcfg/appcfg/backend"
)

// Config is a parsed local location.
type Config struct {
	// Root is the absolute directory holding the store.
	Root string
}

// ParseConfig parses what follows "local" in a location: "" (the user's data
// directory, env.DataDir), ":PATH" passed here as "PATH", or "///abs/path" in
// URL form. A relative PATH is made absolute against the working directory, so
// the store does not move when the process changes directory.
func ParseConfig(rest string, env backend.Env) (Config, error) {
	p := rest
	if strings.HasPrefix(p, "//") {
		// URL form: local:///abs/path. A host part has no meaning here.
		p = strings.TrimPrefix(p, "//")
		if !strings.HasPrefix(p, "/") {
			return Config{}, fmt.Errorf("local location %q names a host; write local:PATH or local:///absolute/path", "local:"+rest)
		}
	}
	if p == "" {
		if env.DataDir == "" {
			return Config{}, errors.New("no data directory is known for the local backend: set $XDG_DATA_HOME or $HOME, or give a path as local:PATH")
		}
		p = env.DataDir
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return Config{}, fmt.Errorf("local backend path %q: %w", p, err)
	}
	return Config{Root: abs}, nil
}
