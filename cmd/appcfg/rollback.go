package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
)

func rollbackCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "release the deploy lock of an interrupted update at once",
		ArgsUsage: "[DIR | FILE.yaml ...]",
		Description: "A crashed update's lock expires by itself within its lease; rollback frees it now and\n" +
			"says whose it was. Blobs the interrupted update already sent stay on the host, so the\n" +
			"next update does not send them again.",
		Flags:  []cli.Flag{&cli.BoolFlag{Name: "force_rollback", Usage: "accepted for compatibility; rollback always releases the lock"}},
		Action: action(io, rollbackOptionsFrom, runRollback),
	}
}

// rollbackOptions are rollback's options.
type rollbackOptions struct {
	globals
	args []string // DIR | FILE.yaml ..., at least one
}

func rollbackOptionsFrom(c *cli.Context) (rollbackOptions, error) {
	g, err := readGlobals(c)
	opts := rollbackOptions{globals: g, args: c.Args().Slice()}
	if len(opts.args) == 0 {
		opts.args = []string{"."}
	}
	return opts, err
}

// runRollback releases the deploy lock of each service named. Several
// service yaml files roll back each one, as update deploys each one.
func runRollback(ctx context.Context, opts rollbackOptions, d deps) error {
	for _, arg := range opts.args {
		if err := rollbackOne(ctx, d, opts.globals, arg); err != nil {
			return err
		}
	}
	return nil
}

func rollbackOne(ctx context.Context, deps deps, g globals, dir string) error {
	io := deps.io
	d, err := loadAppDir(ctx, io, g, dir, false)
	if err != nil {
		return err
	}
	if d.version == "" {
		return usagef("%s has no version: set version: or give -V", d.appYAML)
	}
	return deps.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		l, err := backend.As[backend.Locker](b, "deploy locks")
		if err != nil {
			return err
		}
		g.statusf(io, "Rolling back the update.")
		key := backend.LockKey{App: d.appID, Service: d.service, Version: d.version}
		owner, err := l.BreakLock(ctx, key)
		if err != nil {
			return fmt.Errorf("releasing the lock of version %s: %w", d.version, err)
		}
		res := rollbackResult{App: d.appID, Service: d.service, Version: d.version, Released: owner != nil, Owner: lockOwnerOf(owner)}
		return emit(io, g, res, func() {
			if owner == nil {
				fmt.Fprintf(io.out, "No update of version %s of service %s is in progress; nothing to roll back.\n", d.version, d.service)
				return
			}
			fmt.Fprintf(io.out, "Released the lock of version %s of service %s held by %s@%s (pid %d) since %s.\n",
				d.version, d.service, owner.User, owner.Host, owner.PID, owner.Acquired.Local().Format("2006-01-02 15:04:05"))
		})
	})
}

// rollbackResult is rollback's result (docs/schemas/rollback.json): whether
// a deploy's lock was released, and whose it was.
type rollbackResult struct {
	App      string     `json:"app"`
	Service  string     `json:"service"`
	Version  string     `json:"version"`
	Released bool       `json:"released"`
	Owner    *lockOwner `json:"owner,omitempty"`
}

// lockOwner is a released lock's holder in rollback's JSON, with the
// lower-case snake_case keys of every other JSON output (backend.Owner
// carries no JSON names: how a backend stores it is its own affair).
type lockOwner struct {
	User     string    `json:"user"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
}

func lockOwnerOf(o *backend.Owner) *lockOwner {
	if o == nil {
		return nil
	}
	return &lockOwner{User: o.User, Host: o.Host, PID: o.PID, Acquired: o.Acquired, Expires: o.Expires}
}
