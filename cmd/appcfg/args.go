package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// normalizeArgs lets the command line be written as appcfg.py accepted it:
// options before or after the command and its arguments, and any unambiguous
// prefix of a long option (--appl for --application). Go's flag parsing stops
// at the first argument, so the options are moved ahead of the arguments,
// the global ones before the command name, before urfave/cli parses them.
func normalizeArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := flagTable(app.Flags)
	var cmd *cli.Command
	var cmdFlags flagSet
	var pre, post, positional []string
	cmdName := ""
	for i := 1; i < len(args); i++ {
		tok := args[i]
		if tok == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(tok, "-") || tok == "-" {
			if cmdName == "" {
				cmdName = tok
				if cmd = findCommand(app, tok); cmd != nil {
					cmdFlags = flagTable(cmd.Flags)
				}
				continue
			}
			positional = append(positional, tok)
			continue
		}
		name, hasValue := flagName(tok)
		dest := &post
		full, takesValue, ok := global.resolve(name, cmdFlags)
		switch {
		case ok && global.has(full):
			dest = &pre
		case !ok && cmdName == "":
			dest = &pre
		}
		if ok && full != name {
			tok = strings.Replace(tok, name, full, 1)
		}
		*dest = append(*dest, tok)
		if ok && takesValue && !hasValue && i+1 < len(args) {
			i++
			*dest = append(*dest, args[i])
		}
	}
	out := append([]string{args[0]}, pre...)
	if cmdName != "" {
		out = append(out, cmdName)
	}
	out = append(out, post...)
	for _, p := range positional {
		if strings.HasPrefix(p, "-") && p != "-" {
			out = append(out, "--")
			break
		}
	}
	return append(out, positional...)
}

func findCommand(app *cli.App, name string) *cli.Command {
	for _, c := range app.Commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// flagName strips the dashes and any "=value" from an option token.
func flagName(tok string) (name string, hasValue bool) {
	name = strings.TrimLeft(tok, "-")
	name, _, hasValue = strings.Cut(name, "=")
	return name, hasValue
}

// flagSet maps every name and alias of a set of flags to the flag's main
// name and whether it takes a value.
type flagSet map[string]flagInfo

type flagInfo struct {
	main       string
	takesValue bool
}

func flagTable(flags []cli.Flag) flagSet {
	t := flagSet{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		names := f.Names()
		for _, n := range names {
			t[n] = flagInfo{main: n, takesValue: !isBool}
		}
	}
	return t
}

func (t flagSet) has(name string) bool {
	_, ok := t[name]
	return ok
}

// resolve finds name among the global flags t and the command's flags: an
// exact name first, then a unique prefix of a long name.
func (t flagSet) resolve(name string, cmd flagSet) (full string, takesValue, ok bool) {
	for _, s := range []flagSet{t, cmd} {
		if f, found := s[name]; found {
			return name, f.takesValue, true
		}
	}
	if len(name) < 2 {
		return name, false, false
	}
	var match string
	var info flagInfo
	for _, s := range []flagSet{t, cmd} {
		for n, f := range s {
			if len(n) > 1 && strings.HasPrefix(n, name) && n != match {
				if match != "" {
					return name, false, false // ambiguous: let the parser complain
				}
				match, info = n, f
			}
		}
	}
	if match == "" {
		return name, false, false
	}
	return match, info.takesValue, true
}
