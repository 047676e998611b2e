package main

import (
	"math"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/internal/suggest"
)

// normalizeArgs lets the command line be written as appcfg.py (optparse)
// accepted it: options before or after the command and its arguments, a
// command's own options before the command name, `-` and `_` alike in option
// names (--no-precompilation, --dry_run), any unambiguous prefix of a long
// option (--appl for --application), and integers beyond int64 clamped
// instead of refused. Go's flag parsing stops at the first argument, so the
// options are moved ahead of the arguments, the global ones before the
// command name, each under its canonical name, before urfave/cli parses
// them. An option no flag set knows is an error with a "did you mean".
// It also returns the command named: nil for none, an unknown one or one
// urfave/cli adds (help).
func normalizeArgs(app *cli.App, args []string) ([]string, *cli.Command, error) {
	if len(args) < 2 {
		return args, nil, nil
	}
	global := flagTable(app.Flags, true)
	cmdName := findCommandName(app, global, args)
	cmd := findCommand(app, cmdName)
	var cmdFlags flagSet
	if cmd != nil {
		cmdFlags = flagTable(cmd.Flags, false)
	}
	var pre, post, positional []string
	seenCmd := false
	for i := 1; i < len(args); i++ {
		tok := args[i]
		if tok == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(tok, "-") || tok == "-" {
			if !seenCmd && tok == cmdName {
				seenCmd = true
				continue
			}
			positional = append(positional, tok)
			continue
		}
		name, value, hasValue := flagName(tok)
		// A command's own option shadows a global one of the same name
		// (update_indexes --timeout is how long --wait waits; the global
		// --timeout how long to wait for an operation in progress).
		f, ok := resolveFlag(name, cmdFlags, global)
		if !ok {
			if cmd == nil {
				// An unknown command is reported as such; its options
				// cannot be judged.
				post = append(post, tok)
				continue
			}
			return nil, cmd, unknownFlagError(name, global, cmdFlags, cmdName)
		}
		dest := &post
		if f.global {
			dest = &pre
		}
		if hasValue {
			*dest = append(*dest, dashes(f.main)+f.main+"="+clampInt(f, value))
			continue
		}
		*dest = append(*dest, dashes(f.main)+f.main)
		if f.takesValue && i+1 < len(args) {
			i++
			*dest = append(*dest, clampInt(f, args[i]))
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
	return append(out, positional...), cmd, nil
}

// findCommandName is optparse's first pass: the first argument that is
// neither an option nor an option's value, knowing the options of every
// command (a command's option may come before the command name).
func findCommandName(app *cli.App, global flagSet, args []string) string {
	// The table of every command's options is built only for an option
	// that is not a global one: most command lines name the command first
	// or give global options only, and building it costs more than the
	// rest of the parse.
	var all flagSet
	allFlags := func() flagSet {
		if all == nil {
			all = flagSet{}
			for _, c := range app.Commands {
				for k, v := range flagTable(c.Flags, false) {
					all[k] = v
				}
			}
		}
		return all
	}
	for i := 1; i < len(args); i++ {
		tok := args[i]
		if tok == "--" {
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		if !strings.HasPrefix(tok, "-") || tok == "-" {
			return tok
		}
		name, _, hasValue := flagName(tok)
		f, ok := global[flagKey(name)] // resolveFlag's first answer
		if !ok {
			f, ok = resolveFlag(name, global, allFlags())
		}
		if ok && f.takesValue && !hasValue {
			i++
		}
	}
	return ""
}

func findCommand(app *cli.App, name string) *cli.Command {
	if name == "" {
		return nil
	}
	for _, c := range app.Commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func dashes(name string) string {
	if len(name) == 1 {
		return "-"
	}
	return "--"
}

// flagName strips the dashes and splits off any "=value" of an option token.
func flagName(tok string) (name, value string, hasValue bool) {
	name = strings.TrimLeft(tok, "-")
	return strings.Cut(name, "=")
}

// flagKey is how option names are compared: optparse's names use `_`, many
// scripts write `-`; both mean the same option.
func flagKey(name string) string { return strings.ReplaceAll(name, "-", "_") }

// flagSet maps the key of every name and alias of a set of flags to the
// flag's main name and kind.
type flagSet map[string]flagInfo

type flagInfo struct {
	main       string
	takesValue bool
	isInt      bool
	global     bool
}

func flagTable(flags []cli.Flag, global bool) flagSet {
	// Sized first: grown on the way, the map of the global options was
	// copied into fresh tables four times on every run.
	n := 0
	for _, f := range flags {
		n += len(flagNames(f))
	}
	t := make(flagSet, n)
	for _, f := range flags {
		names := flagNames(f)
		info := flagInfo{main: names[0], global: global}
		switch baseFlag(f).(type) {
		case *cli.BoolFlag:
		case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
			info.takesValue, info.isInt = true, true
		default:
			info.takesValue = true
		}
		for _, n := range names {
			t[flagKey(n)] = info
		}
	}
	return t
}

// flagNames is f.Names() without its cost: urfave/cli runs a regular
// expression over every name on each call (to strip appcfg.py-style
// "name, alias" spellings, which appcfg never writes), and the option
// tables look at every flag of every command on each run.
// TestFlagNamesMatchCLI checks the answers against f.Names() for every flag.
func flagNames(f cli.Flag) []string {
	if baseFlag(f) != f {
		return f.Names() // kept: no regular expression
	}
	// Every flag type of urfave/cli keeps them in fields Name and Aliases.
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return f.Names()
	}
	nameField, aliasField := v.Elem().FieldByName("Name"), v.Elem().FieldByName("Aliases")
	if !nameField.IsValid() || nameField.Kind() != reflect.String || !aliasField.IsValid() {
		return f.Names()
	}
	aliases, ok := aliasField.Interface().([]string)
	if !ok {
		return f.Names()
	}
	return plainNames(f, nameField.String(), aliases)
}

// plainNames is f's name and aliases as urfave/cli's Names gives them, read
// from its fields: Names only strips an appcfg.py-style "name, alias"
// spelling, which appcfg never writes (such a spelling goes to Names).
func plainNames(f cli.Flag, name string, aliases []string) []string {
	if strings.ContainsAny(name, ", ") || slices.ContainsFunc(aliases, func(a string) bool { return strings.ContainsAny(a, ", ") }) {
		return f.Names()
	}
	return append([]string{name}, aliases...)
}

// resolveFlag finds name among the global flags and the command's: an exact
// name (either spelling) first, then a prefix of exactly one long option.
// Aliases of one flag (dry-run, dry_run) count as one match.
func resolveFlag(name string, sets ...flagSet) (flagInfo, bool) {
	key := flagKey(name)
	for _, s := range sets {
		if f, ok := s[key]; ok {
			return f, true
		}
	}
	if len(key) < 2 {
		return flagInfo{}, false
	}
	var match flagInfo
	found := false
	for _, s := range sets {
		for n, f := range s {
			if len(n) < 2 || !strings.HasPrefix(n, key) || (found && f.main == match.main && f.global == match.global) {
				continue
			}
			if found {
				return flagInfo{}, false // ambiguous: the parser reports it
			}
			match, found = f, true
		}
	}
	return match, found
}

// clampInt keeps an integer option beyond what an int holds from failing
// the whole command: optparse read Python's unbounded ints, and scripts
// wrote "no limit" as a huge number.
func clampInt(f flagInfo, value string) string {
	if !f.isInt {
		return value
	}
	if _, err := strconv.ParseInt(value, 0, 64); err == nil {
		return value
	}
	n, ok := new(big.Int).SetString(value, 0)
	if !ok {
		return value
	}
	if n.Sign() < 0 {
		return strconv.Itoa(math.MinInt32)
	}
	return strconv.Itoa(math.MaxInt32)
}

// unknownFlagError names the option and the closest known one.
func unknownFlagError(name string, global, cmd flagSet, cmdName string) error {
	var names []string
	for _, s := range []flagSet{global, cmd} {
		for _, f := range s {
			names = append(names, f.main)
		}
	}
	sort.Strings(names)
	if s := suggest.Closest(flagKey(name), names, flagKey); s != "" {
		return usagef("flag provided but not defined: -%s (did you mean %s%s?)", name, dashes(s), s)
	}
	return usagef("flag provided but not defined: -%s ('appcfg help %s' lists the options)", name, cmdName)
}

// Every flag answers Names from a list made once. urfave/cli's Names runs
// a regular expression over every name on each call, and every run asks it
// of each flag before the one it looks up (runFlagActions → IsSet →
// lookupFlag, for every flag of the root and of the command): 7 M
// instructions, half of what `appcfg version` ran in user space. Each
// wrapper embeds the flag urfave/cli made, so it has all of that flag's
// methods; only a type switch on urfave/cli's types must look through it
// (baseFlag). urfave/cli's own switches are in its fish completion, which
// tests TakesFile (no flag of appcfg sets it), in its bash completion,
// which appcfg does not enable, and in the help's rendering of a flag
// (keptNamesBool.GetDefaultText). The list is made on the first call:
// a run asks the names of its own command's flags and the global ones,
// not of the other commands'.
//
// String, which the help prints and urfave/cli's set-up calls for every
// global flag (it files the flags of a category under their help line),
// is urfave/cli's FlagStringer applied to the wrapper, which is what the
// embedded flag's String does, through the kept names
// (TestKeptFlagsPrintAsUrfave).
type (
	keptNamesBool struct {
		*cli.BoolFlag
		names keptNames
	}
	keptNamesString struct {
		*cli.StringFlag
		names keptNames
	}
	keptNamesStringSlice struct {
		*cli.StringSliceFlag
		names keptNames
	}
	keptNamesInt struct {
		*cli.IntFlag
		names keptNames
	}
	keptNamesFloat64 struct {
		*cli.Float64Flag
		names keptNames
	}
	keptNamesDuration struct {
		*cli.DurationFlag
		names keptNames
	}
	keptNamesGeneric struct {
		*cli.GenericFlag
		names keptNames
	}
)

// keptNames is a flag's names, made on first use (plainNames).
type keptNames struct {
	once  sync.Once
	names []string
}

func (k *keptNames) get(f cli.Flag, name string, aliases []string) []string {
	k.once.Do(func() { k.names = plainNames(f, name, aliases) })
	return k.names
}

func (f *keptNamesBool) Names() []string { return f.names.get(f.BoolFlag, f.Name, f.Aliases) }
func (f *keptNamesString) Names() []string {
	return f.names.get(f.StringFlag, f.Name, f.Aliases)
}
func (f *keptNamesStringSlice) Names() []string {
	return f.names.get(f.StringSliceFlag, f.Name, f.Aliases)
}
func (f *keptNamesInt) Names() []string { return f.names.get(f.IntFlag, f.Name, f.Aliases) }
func (f *keptNamesFloat64) Names() []string {
	return f.names.get(f.Float64Flag, f.Name, f.Aliases)
}
func (f *keptNamesDuration) Names() []string {
	return f.names.get(f.DurationFlag, f.Name, f.Aliases)
}
func (f *keptNamesGeneric) Names() []string {
	return f.names.get(f.GenericFlag, f.Name, f.Aliases)
}

func (f *keptNamesBool) String() string        { return cli.FlagStringer(f) }
func (f *keptNamesString) String() string      { return cli.FlagStringer(f) }
func (f *keptNamesStringSlice) String() string { return cli.FlagStringer(f) }
func (f *keptNamesInt) String() string         { return cli.FlagStringer(f) }
func (f *keptNamesFloat64) String() string     { return cli.FlagStringer(f) }
func (f *keptNamesDuration) String() string    { return cli.FlagStringer(f) }
func (f *keptNamesGeneric) String() string     { return cli.FlagStringer(f) }

// GetDefaultText honours DisableDefaultText, which urfave/cli's rendering
// of a flag reads only from a *cli.BoolFlag itself.
func (f *keptNamesBool) GetDefaultText() string {
	if f.DisableDefaultText {
		return ""
	}
	return f.BoolFlag.GetDefaultText()
}

// keepNames wraps each flag of flags in place (see keptNamesBool).
func keepNames(flags []cli.Flag) {
	for i, f := range flags {
		switch f := f.(type) {
		case *cli.BoolFlag:
			flags[i] = &keptNamesBool{BoolFlag: f}
		case *cli.StringFlag:
			flags[i] = &keptNamesString{StringFlag: f}
		case *cli.StringSliceFlag:
			flags[i] = &keptNamesStringSlice{StringSliceFlag: f}
		case *cli.IntFlag:
			flags[i] = &keptNamesInt{IntFlag: f}
		case *cli.Float64Flag:
			flags[i] = &keptNamesFloat64{Float64Flag: f}
		case *cli.DurationFlag:
			flags[i] = &keptNamesDuration{DurationFlag: f}
		case *cli.GenericFlag:
			flags[i] = &keptNamesGeneric{GenericFlag: f}
		}
	}
}

// baseFlag is the flag urfave/cli made, for a type switch.
func baseFlag(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *keptNamesBool:
		return f.BoolFlag
	case *keptNamesString:
		return f.StringFlag
	case *keptNamesStringSlice:
		return f.StringSliceFlag
	case *keptNamesInt:
		return f.IntFlag
	case *keptNamesFloat64:
		return f.Float64Flag
	case *keptNamesDuration:
		return f.DurationFlag
	case *keptNamesGeneric:
		return f.GenericFlag
	}
	return f
}
