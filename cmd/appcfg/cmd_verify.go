package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/urfave/cli/v2"
)

// errDamaged means verify found damage in the store (and printed it); it
// exits exitFailure.
var errDamaged = errors.New("the store holds damaged or missing content")

func verifyCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "check every blob and record of the local store; --repair forgets damaged content, --gc frees unused content",
		Description: "Reads every stored content through its SHA-1, checks every record and every\n" +
			"version's files against the records, then reports the damage by version. --repair forgets\n" +
			"each damaged content and record, so the next update of a version that names it sends it\n" +
			"again. --gc removes the contents no version names (never those a deploy in flight may use)\n" +
			"and stray files.\n" +
			"Exit status 1 when damage was found (even when repaired: the versions listed need an update).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "repair", Usage: "forget damaged contents and records, so the next update sends them again"},
			&cli.BoolFlag{Name: "gc", Usage: "remove contents no version names, and stray files"},
		},
		Action: action(io, verifyOptionsFrom, runVerify),
	}
}

// verifyOptions are verify's options.
type verifyOptions struct {
	globals
	store backend.VerifyOptions
}

func verifyOptionsFrom(c *cli.Context) (verifyOptions, error) {
	g, err := readGlobals(c)
	if err == nil && c.Args().Present() {
		err = usagef("verify takes no argument: it checks the store --backend names.")
	}
	return verifyOptions{globals: g, store: backend.VerifyOptions{Repair: c.Bool("repair"), Collect: c.Bool("gc")}}, err
}

// runVerify checks every content and record of the store, repairing or
// collecting as opts say.
func runVerify(ctx context.Context, vo verifyOptions, d deps) error {
	g, io, opts := vo.globals, d.io, vo.store
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		v, err := backend.As[backend.StoreVerifier](b, "verify (it checks a local store; a remote host checks its own storage)")
		if err != nil {
			return err
		}
		g.statusf(io, "Checking every content and record of %s.", b.Location())
		rep, err := v.VerifyStore(ctx, opts)
		if err != nil {
			return fmt.Errorf("verifying %s: %w", b.Location(), err)
		}
		// The report's schema is backend.StoreReportSchema
		// (docs/schemas/verify.json).
		if err := emit(io, g, rep, func() { printStoreReport(io, rep) }); err != nil {
			return err
		}
		if len(rep.Problems) > 0 {
			return errDamaged
		}
		return nil
	})
}

// printStoreReport prints a verify report for people: the damage by
// version, then each damaged content, then what can be freed.
func printStoreReport(io stdio, rep *backend.StoreReport) {
	fmt.Fprintf(io.out, "Checked %d contents (%s) and %d files of versions in %s.\n",
		rep.Blobs, human.Size(rep.Bytes), rep.Files, rep.Store)
	if len(rep.Problems) == 0 {
		fmt.Fprintln(io.out, "No damage found.")
	}
	for _, v := range rep.Versions {
		fmt.Fprintf(io.out, "Version %s of service %s of app %s cannot be served whole: %d file(s)\n", v.Version, v.Service, v.App, len(v.Files))
		for i, f := range v.Files {
			if i == maxListed {
				fmt.Fprintf(io.out, "  and %d more\n", len(v.Files)-maxListed)
				break
			}
			fmt.Fprintf(io.out, "  %s: %s (%s)\n", human.Path(f.Path), problemWords[f.Kind], f.SHA1)
		}
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(io.out, "%d problem(s):\n", len(rep.Problems))
	}
	for i, p := range rep.Problems {
		if i == maxListed {
			fmt.Fprintf(io.out, "  and %d more (--json lists them all)\n", len(rep.Problems)-maxListed)
			break
		}
		what := p.Kind
		if p.SHA1 != "" {
			what += " " + p.SHA1
		}
		if len(p.Apps) > 0 {
			what += " (app " + strings.Join(p.Apps, ", ") + ")"
		}
		fmt.Fprintf(io.out, "  %s: %s\n", what, p.Detail)
	}
	repairable := 0
	for _, p := range rep.Problems {
		if p.Kind != backend.ProblemUnrecorded && p.Kind != backend.ProblemDatabase && !p.Repaired {
			repairable++
		}
	}
	switch {
	case rep.Repaired > 0:
		fmt.Fprintf(io.out, "Repaired: forgot %d damaged content(s) or record(s); run appcfg update for each version listed to send the contents again (a forgotten entity or request-log chunk is gone: upload_data loads entities again from a dump).\n", rep.Repaired)
	case repairable > 0:
		fmt.Fprintln(io.out, "Run appcfg verify --repair, then appcfg update for each version listed.")
	case len(rep.Versions) > 0:
		fmt.Fprintln(io.out, "Run appcfg update for each version listed, which sends the contents it lacks.")
	}
	if c := rep.Collected; c != nil {
		fmt.Fprintf(io.out, "Collected: freed %d file(s), %s (%d unused record(s)).\n", c.Files, human.Size(c.Bytes), c.Blobs)
		if c.Kept > 0 {
			fmt.Fprintf(io.out, "Kept %d unused content(s) of %s: a deploy of it is in flight or can be resumed.\n", c.Kept, strings.Join(c.KeptFor, ", "))
		}
		return
	}
	if rep.UnusedBlobs > 0 || rep.UnrecordedFiles > 0 || rep.TempFiles > 0 {
		fmt.Fprintf(io.out, "Unused: %d content(s) no version names (%s), %d unrecorded file(s), %d temporary file(s); appcfg verify --gc frees them.\n",
			rep.UnusedBlobs, human.Size(rep.UnusedBytes), rep.UnrecordedFiles, rep.TempFiles)
	}
}

// maxListed bounds each list of the human report; --json has everything.
const maxListed = 20

// problemWords says each kind of problem in a few words.
var problemWords = map[string]string{
	backend.ProblemMissing:    "content missing",
	backend.ProblemSize:       "content of the wrong size",
	backend.ProblemContent:    "content damaged",
	backend.ProblemUnreadable: "content unreadable",
	backend.ProblemUnrecorded: "content not recorded",
	backend.ProblemDatabase:   "database damaged",
	backend.ProblemRecord:     "record damaged",
}
