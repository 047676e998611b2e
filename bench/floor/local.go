//go:build linux && floorlocal

package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/logs"
)

// storeCommands is download: request_logs' work through appcfg's own
// packages, on the floor's start-up.
func storeCommands() []*cli.Command {
	return []*cli.Command{{Name: "download", ArgsUsage: "STORE APP VERSION DST", Action: func(c *cli.Context) error {
		a := c.Args()
		if a.Len() != 4 {
			return errors.New("usage: floor download STORE APP VERSION DST")
		}
		return download(c.Context, a.Get(0), a.Get(1), a.Get(2), a.Get(3))
	}}}
}

// download writes every request log of the default service's version of
// app in the local store at root to dst, as `appcfg request_logs -A APP -V
// VERSION --num_days 0 DST` does.
func download(ctx context.Context, root, app, version, dst string) error {
	b, err := local.Open(ctx, "", local.Config{Root: root}, backend.Env{})
	if err != nil {
		return err
	}
	// Severity -1, the CLI's default: no app log lines, so the kept lines
	// are copied rather than formatted again.
	_, err = logs.Download(ctx, b, logs.Options{App: app, Service: "default", Version: version, Output: dst, Format: logs.Format{Severity: -1}})
	return errors.Join(err, b.Close())
}
