package backend

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Env is what the command layer hands a factory: backends never read flags,
// environment variables or terminals themselves.
type Env struct {
	// DataDir is the per-user data directory (for example
	// $XDG_DATA_HOME/appcfg) where backends that store locally keep their
	// state when the location names no path.
	DataDir string
	// HTTPClient is the authenticated client for backends that talk to a
	// remote host.
	HTTPClient *http.Client
	// User names the person deploying, for lock owners and version records.
	User string
}

// Factory opens backends of one scheme.
type Factory interface {
	// Scheme is the part of a location before the first ':' ("local").
	Scheme() string
	// Open opens the backend at location, whose scheme is Scheme(). rest
	// is what follows "scheme:" (possibly empty, or "//host/path").
	Open(ctx context.Context, location, rest string, env Env) (Backend, error)
}

// ProjectLocator is a Factory whose locations may name the project
// (application) every call acts on, as appengine://PROJECT does. The
// command layer asks it before any request, so that the project a user
// names in the location wins over the application files name.
type ProjectLocator interface {
	// LocationProject returns the project rest (what follows "scheme:")
	// names, "" when it names none. It reads only the string.
	LocationProject(rest string) (string, error)
}

// Registry maps schemes to factories.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns a registry holding the given factories. Two factories
// with the same scheme are a programming error and panic.
func NewRegistry(fs ...Factory) *Registry {
	r := &Registry{factories: make(map[string]Factory)}
	for _, f := range fs {
		if _, dup := r.factories[f.Scheme()]; dup {
			panic("backend: scheme registered twice: " + f.Scheme())
		}
		r.factories[f.Scheme()] = f
	}
	return r
}

// Schemes lists the registered schemes, sorted.
func (r *Registry) Schemes() []string {
	s := make([]string, 0, len(r.factories))
	for k := range r.factories {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Open opens the backend a location names.
func (r *Registry) Open(ctx context.Context, location string, env Env) (Backend, error) {
	scheme, rest, _ := strings.Cut(location, ":")
	f, ok := r.factories[scheme]
	if !ok {
		return nil, fmt.Errorf("unknown backend %q: the location must start with one of %s (for example \"local\" or \"local:/path/to/store\")",
			location, strings.Join(r.Schemes(), ", "))
	}
	b, err := f.Open(ctx, location, rest, env)
	if err != nil {
		return nil, fmt.Errorf("opening backend %s: %w", location, err)
	}
	return b, nil
}

// Project returns the project a location names, "" when its scheme names
// none (local) or the location names none (appengine with -A). The error is
// the one Open would give for a malformed location.
func (r *Registry) Project(location string) (string, error) {
	scheme, rest, _ := strings.Cut(location, ":")
	pl, ok := r.factories[scheme].(ProjectLocator)
	if !ok {
		return "", nil
	}
	p, err := pl.LocationProject(rest)
	if err != nil {
		return "", fmt.Errorf("backend %s: %w", location, err)
	}
	return p, nil
}
