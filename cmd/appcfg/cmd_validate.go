package main

import (
	"encoding/json"
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
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output format: text or json (a JSON array of problems, for CI annotations)"},
			&cli.BoolFlag{Name: "print", Usage: "print each file's parsed, defaulted configuration as YAML"},
		},
		Action: func(c *cli.Context) error {
			g, err := readGlobals(c)
			if err != nil {
				return err
			}
			format := c.String("format")
			if format != "text" && format != "json" {
				return usagef("--format must be text or json, not %q", format)
			}
			opts := g.validateOptions()
			results, err := validate.Paths(c.Context, c.Args().Slice(), opts)
			if err != nil {
				return err
			}
			return reportValidation(io, g, results, format, c.Bool("print"))
		},
	}
}

// reportValidation prints the problems (stdout), the parsed configuration
// when asked, and a summary (stderr); it returns errReported when any file
// has an error.
func reportValidation(io stdio, g globals, results []validate.FileResult, format string, print bool) error {
	var all []appconfig.Problem
	bad := 0
	for _, r := range results {
		all = append(all, r.Problems...)
		if !r.OK() {
			bad++
		}
	}
	if format == "json" {
		if all == nil {
			all = []appconfig.Problem{}
		}
		enc := json.NewEncoder(io.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return fmt.Errorf("write problems: %w", err)
		}
	} else {
		for _, p := range all {
			fmt.Fprintln(io.out, p.String())
		}
	}
	if print {
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
