package main

import (
	"context"
	"fmt"
	"os"
	"os/user"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/all"
)

// openBackend opens the backend the --backend flag names.
func openBackend(ctx context.Context, g globals) (backend.Backend, error) {
	dataDir, err := all.DefaultDataDir(os.Getenv)
	if err != nil {
		return nil, err
	}
	location := remoteLocation(g.backend, os.Getenv)
	hc, err := authHTTPClient(ctx, g.auth, location)
	if err != nil {
		return nil, err
	}
	env := backend.Env{DataDir: dataDir, User: userName(), HTTPClient: hc}
	return all.Registry(all.Options{AppEngine: g.appengine}).Open(ctx, location, env)
}

// userName is who deploys, for lock owners and version records.
func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return "unknown"
}

// deployOwner describes this process for the lock record.
func deployOwner() backend.Owner {
	host, _ := os.Hostname()
	return backend.Owner{User: userName(), Host: host, PID: os.Getpid()}
}

// closeBackend closes b, keeping the first error.
func closeBackend(b backend.Backend, err *error) {
	if cerr := b.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("closing backend: %w", cerr)
	}
}
