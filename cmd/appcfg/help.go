package main

import (
	"github.com/appcfg/appcfg/internal/lazyre"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

// usageDefault is a default written in a flag's usage text; the help
// shows it once, in urfave/cli's "(default: …)" place.
var usageDefault = lazyre.New(`\s*\(default:? ([^()]*(\([^()]*\))?[^()]*)\)`)

// tidyHelp makes each flag print its default once: a default the usage
// text spells out replaces the raw value, and booleans (false unless given)
// print none.
func tidyHelp(flags []cli.Flag) {
	for _, f := range flags {
		switch f := f.(type) {
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
