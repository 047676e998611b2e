package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/internal/suggest"
)

// run executes the command line args (args[0] is the program name) and
// returns the exit status. Only main calls os.Exit.
func run(ctx context.Context, args []string, io stdio) int {
	io.err = &lockedWriter{w: io.err}
	// Results and ndjson events of several goroutines reach stdout whole;
	// the watch tells whether a failed command printed its document.
	io.out = &watchedWriter{w: &lockedWriter{w: io.out}}
	if len(args) == 2 && (args[1] == "--version" || args[1] == "-V") {
		// -V/--version takes an app version for every command, as in
		// appcfg.py; alone, it asks for the tool's own version.
		fmt.Fprintln(io.out, versionLine())
		return exitOK
	}
	return runApp(ctx, newApp(io), args, io)
}

// runApp runs app on args. A panic on the way is a bug of appcfg: it is
// reported as one line asking for a report, with exit status 70, never as
// a Go trace (see recoverBug). With --format json or ndjson a failure is
// also a JSON error object on stdout.
func runApp(ctx context.Context, app *cli.App, args []string, io stdio) (code int) {
	out, _ := app.Writer.(*watchedWriter)
	if out == nil {
		out = &watchedWriter{w: io.out}
	}
	f := requestedFormat(args)
	defer func() {
		if code == exitBug {
			printFailure(out, f, "bug", code, errors.New("appcfg failed (a bug); see stderr"))
		}
	}()
	defer recoverBug(io.err, &code)
	norm, cmd, err := normalizeArgs(app, args)
	if err == nil {
		f = requestedFormat(norm)
		if helpMayPrint(cmd, norm) {
			prepareHelp(app)
		} else {
			forgoHelp(app)
		}
		err = app.RunContext(ctx, norm)
	}
	code, class := reportError(err, io.err)
	if err != nil && code != exitBug {
		printFailure(out, f, class, code, redactedError{err})
	}
	return code
}

// newApp builds the command tree. Everything it needs comes from io, so
// several apps can run side by side in one test process.
func newApp(io stdio) *cli.App {
	legacy := legacyGlobalOptions()
	app := &cli.App{
		Name:      "appcfg",
		Usage:     "validate and deploy App Engine applications",
		UsageText: "appcfg [global options] COMMAND [command options] [DIR] [args...]",
		Description: "appcfg keeps the commands and flags of Google's appcfg.py. Options may be given\n" +
			"before or after the command and its arguments.",
		Flags: append(append(globalFlags(), authFlags()...), legacyFlags(legacy)...),
		Before: func(c *cli.Context) error {
			return checkLegacy(c, legacy)
		},
		HideVersion:          true,
		EnableBashCompletion: false,
		Reader:               io.in,
		Writer:               io.out,
		ErrWriter:            io.err,
		// Errors come back from Run and are mapped in exit.go; urfave/cli
		// must never call os.Exit itself.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommandError(c.App, c.Args().First())
			}
			// Options alone (a shell alias the user appends a command to)
			// ask for nothing wrong: show what can be appended.
			return cli.ShowAppHelp(c)
		},
		Commands: commands(io),
	}
	keepNames(app.Flags)
	for _, cmd := range app.Commands {
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = app.OnUsageError
		}
		keepNames(cmd.Flags)
	}
	return app
}

// unknownCommandError names the closest command, as "did you mean".
func unknownCommandError(app *cli.App, name string) error {
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	if s := suggest.Closest(name, names, nil); s != "" {
		return usagef("unknown command %q (did you mean %s?)", name, s)
	}
	return usagef("unknown command %q", name)
}

// commands lists every command; each is defined in its cmd_*.go file.
func commands(io stdio) []*cli.Command {
	cmds := []*cli.Command{
		validateCommand(io),
		lsFilesCommand(io),
		updateCommand(io),
		rollbackCommand(io),
		serveCommand(io),
		requestLogsCommand(io),
		verifyCommand(io),
	}
	cmds = append(cmds, versionCommands(io)...)
	cmds = append(cmds, bulkloadCommands(io)...)
	cmds = append(cmds, indexCommands(io)...)
	cmds = append(cmds, configPushCommands(io)...)
	cmds = append(cmds, legacyCommands(io)...)
	return append(cmds, versionCommand(io), completionCommand(io), exitCodesCommand(io))
}
