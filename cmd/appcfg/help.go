package main

import (
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/internal/lazyre"
)

// The help texts are readied only on a run that may print one
// (helpMayPrint): tidying every flag's usage and rendering the global
// options into each command's help template cost every run of every
// command 0.7 M instructions and, in a fresh process, 130 KB of heap (20
// to 30 page faults), for text that only help prints. Nothing else reads
// a flag's usage or default text but the fish completion (tidyAppHelp):
// the option tables and the other completions read names.

// prepareHelp readies app's help texts: each flag's default shown once
// and the global options listed under each command's help.
func prepareHelp(app *cli.App) {
	tidyAppHelp(app)
	cmdHelp := commandHelpTemplate(app.Flags)
	for _, cmd := range app.Commands {
		if cmd.CustomHelpTemplate == "" { // help topics (exit-codes) keep their own
			cmd.CustomHelpTemplate = cmdHelp
		}
	}
}

// tidyAppHelp tidies the usage texts of every flag of app (tidyHelp); the
// fish completion, which prints them, calls it too. Tidying twice changes
// nothing.
func tidyAppHelp(app *cli.App) {
	tidyHelp(app.Flags)
	for _, cmd := range app.Commands {
		tidyHelp(cmd.Flags)
	}
}

// forgoHelp drops from a run that prints no help (helpMayPrint) what only
// help reads: the global flags' categories, which group the app's help.
// urfave/cli's set-up files every flag of a category under its help line
// (String) on every run: 0.3 M instructions of `appcfg version`.
func forgoHelp(app *cli.App) {
	for _, f := range app.Flags {
		switch f := baseFlag(f).(type) {
		case *cli.BoolFlag:
			f.Category = ""
		case *cli.StringFlag:
			f.Category = ""
		case *cli.StringSliceFlag:
			f.Category = ""
		case *cli.IntFlag:
			f.Category = ""
		case *cli.Float64Flag:
			f.Category = ""
		case *cli.DurationFlag:
			f.Category = ""
		case *cli.GenericFlag:
			f.Category = ""
		}
	}
}

// helpMayPrint tells whether urfave/cli may print a help text on a run of
// cmd (nil: no command, or its own help command) with args as
// normalizeArgs left them: the help command, a help option, a command
// with subcommands, a missing required option (urfave/cli then prints the
// command's help) and the app's help for options alone. It may answer
// true for a run that prints none (a directory named -h after --), never
// false for one that prints help.
func helpMayPrint(cmd *cli.Command, args []string) bool {
	if cmd == nil || len(cmd.Subcommands) > 0 {
		return true
	}
	for _, f := range cmd.Flags {
		if r, ok := f.(cli.RequiredFlag); ok && r.IsRequired() {
			return true
		}
	}
	if cli.HelpFlag == nil {
		return false
	}
	var helpNames []string
	for _, a := range args[1:] {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if helpNames == nil {
			helpNames = flagNames(cli.HelpFlag)
		}
		if name, _, _ := flagName(a); slices.Contains(helpNames, name) {
			return true
		}
	}
	return false
}

// usageDefault is a default written in a flag's usage text; the help
// shows it once, in urfave/cli's "(default: …)" place.
var usageDefault = lazyre.New(`\s*\(default:? ([^()]*(\([^()]*\))?[^()]*)\)`)

// tidyHelp makes each flag print its default once: a default the usage
// text spells out replaces the raw value, and booleans (false unless given)
// print none.
func tidyHelp(flags []cli.Flag) {
	for _, f := range flags {
		switch f := baseFlag(f).(type) {
		case *cli.BoolFlag:
			f.DisableDefaultText = true
			if mayHaveDefault(f.Usage) {
				f.Usage = usageDefault.ReplaceAllString(f.Usage, "")
			}
		case *cli.StringFlag:
			f.Usage, f.DefaultText = moveDefault(f.Usage, f.DefaultText)
		case *cli.IntFlag:
			f.Usage, f.DefaultText = moveDefault(f.Usage, f.DefaultText)
		case *cli.Float64Flag:
			f.Usage, f.DefaultText = moveDefault(f.Usage, f.DefaultText)
		case *cli.StringSliceFlag:
			f.Usage, f.DefaultText = moveDefault(f.Usage, f.DefaultText)
		}
	}
}

func moveDefault(usage, text string) (string, string) {
	if text != "" || !mayHaveDefault(usage) {
		return usage, text
	}
	m := usageDefault.FindStringSubmatch(usage)
	if m == nil || text != "" {
		return usage, text
	}
	return strings.Replace(usage, m[0], "", 1), m[1]
}

// mayHaveDefault is usageDefault's literal part: every run tidies every
// flag's help, and most usage texts have no default to move.
func mayHaveDefault(usage string) bool {
	return strings.Contains(usage, "(default")
}

// commandHelpTemplate is urfave/cli's command help followed by the global
// options, which every command takes (appcfg.py's `help ACTION` listed
// them too).
func commandHelpTemplate(global []cli.Flag) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 1, 8, 2, ' ', 0)
	for _, f := range global {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		tw.Write([]byte("   " + strings.ReplaceAll(f.String(), "{{", "{ {") + "\n"))
	}
	tw.Flush()
	return cli.CommandHelpTemplate + "\nGLOBAL OPTIONS (before or after the command):\n" + b.String()
}
