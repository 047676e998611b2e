package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/validate"
)

func validateCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check app.yaml and its companion files as the App Engine SDK does",
		ArgsUsage: "[DIR | FILE.yaml ...]",
		Description: "With a directory (default: the current one), checks its app.yaml with includes and\n" +
			"builtins merged, and every companion file present: index.yaml, cron.yaml, queue.yaml,\n" +
			"dispatch.yaml, dos.yaml. Named files are checked by their kind (index.yaml is an index\n" +
			"file; any other yaml file is an app or service configuration). Every problem is printed\n" +
			"as file:line:col: message; the exit status is 1 when any file has an error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "print", Usage: "print each file's parsed, defaulted configuration as YAML"},
		},
		Action: action(io, validateOptionsFrom, runValidate),
	}
}

// validateCmdOptions are validate's options.
type validateCmdOptions struct {
	globals
	paths []string // the directories and files to check
	print bool     // also print the configuration as read
}

func validateOptionsFrom(c *cli.Context) (validateCmdOptions, error) {
	g, err := readGlobals(c)
	return validateCmdOptions{globals: g, paths: c.Args().Slice(), print: c.Bool("print")}, err
}

// runValidate checks the configuration files of opts.paths and reports
// every problem.
func runValidate(ctx context.Context, opts validateCmdOptions, d deps) error {
	results, err := validate.Paths(ctx, opts.paths, opts.validateOptions())
	if err != nil {
		return err
	}
	return reportValidation(d.io, opts.globals, results, opts.print)
}

// reportValidation prints the problems (stdout), the parsed configuration
// when asked, and a summary (stderr); it returns errReported when any file
// has an error.
func reportValidation(io stdio, g globals, results []validate.FileResult, print bool) error {
	all := []appconfig.Problem{}
	bad := 0
	for _, r := range results {
		all = append(all, r.Problems...)
		if !r.OK() {
			bad++
		}
	}
	// The result stays what --format json always printed: the array of
	// problems (docs/schemas/validate.json).
	err := emit(io, g, all, func() {
		for _, p := range all {
			fmt.Fprintln(io.out, p.String())
		}
	})
	if err != nil {
		return fmt.Errorf("write problems: %w", err)
	}
	githubAnnotate(io, g, all)
	if print && !g.format.machine() {
		if err := printConfigs(io, results); err != nil {
			return err
		}
	}
	errs := 0
	for _, p := range all {
		if !p.Warning {
			errs++
		}
	}
	g.statusf(io, "%s checked: %s", plural(len(results), "file"), summary(errs, len(all)-errs, bad))
	if bad > 0 {
		return errReported
	}
	return nil
}

func printConfigs(io stdio, results []validate.FileResult) error {
	for i, r := range results {
		if r.Config == nil || !r.OK() {
			continue
		}
		if i > 0 {
			fmt.Fprintln(io.out, "---")
		}
		fmt.Fprintf(io.out, "# %s (%s)\n", r.Path, r.Kind)
		enc := yaml.NewEncoder(io.out)
		enc.SetIndent(2)
		if err := enc.Encode(r.Config); err != nil {
			return fmt.Errorf("print %s: %w", r.Path, err)
		}
		if err := enc.Close(); err != nil {
			return fmt.Errorf("print %s: %w", r.Path, err)
		}
	}
	return nil
}

func summary(errs, warnings, badFiles int) string {
	if errs == 0 && warnings == 0 {
		return "no problems"
	}
	parts := []string{}
	if errs > 0 {
		parts = append(parts, fmt.Sprintf("%s in %s", plural(errs, "error"), plural(badFiles, "file")))
	}
	if warnings > 0 {
		parts = append(parts, plural(warnings, "warning"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y")) // entity, entities
	}
	return fmt.Sprintf("%d %ss", n, word)
}
