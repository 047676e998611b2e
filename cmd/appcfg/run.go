package main

import (
	"context"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
)

// A command is its flags turned into a plain options struct (the only
// code that reads a *cli.Context) and a run function over those options
// and its deps: run(ctx, opts, deps). Tests call the run functions with
// options and deps built by hand, without urfave/cli.

// deps are what a command's run function uses besides its options: the
// process's streams, the way to the host and the clock.
type deps struct {
	io stdio
	// open opens the host the global flags name: openBackend, or in a
	// test a store of its own.
	open func(context.Context, globals) (backend.Backend, error)
	now  func() time.Time
}

// newDeps are the deps of the real process.
func newDeps(io stdio) deps {
	return deps{io: io, open: openBackend, now: time.Now}
}

// action is the Action of a command: parse turns the flags into options,
// run does the work.
func action[O any](io stdio, parse func(*cli.Context) (O, error), run func(context.Context, O, deps) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		opts, err := parse(c)
		if err != nil {
			return err
		}
		return run(c.Context, opts, newDeps(io))
	}
}

// onHost opens the host g names for fn and closes it after, keeping fn's
// error first.
func (d deps) onHost(ctx context.Context, g globals, fn func(context.Context, backend.Backend) error) (err error) {
	b, err := d.open(ctx, g)
	if err != nil {
		return err
	}
	defer closeBackend(b, &err)
	return fn(ctx, b)
}
