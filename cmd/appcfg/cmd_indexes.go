package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/indexes"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/validate"
)

// indexCommands are update_indexes and vacuum_indexes.
func indexCommands(io stdio) []*cli.Command {
	return []*cli.Command{
		{
			Name:      "update_indexes",
			Usage:     "add the indexes of index.yaml that the host lacks, and report each index's state",
			ArgsUsage: "[DIR]",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "wait", Usage: "wait until every index serves; exit 1 if one fails or --timeout passes"},
				&cli.DurationFlag{Name: "timeout", Value: indexes.DefaultTimeout, Usage: "how long --wait waits"},
			},
			Action: action(io, func(c *cli.Context) (indexOptions, error) {
				opts, err := indexOptionsFrom(c)
				if err == nil && opts.timeout <= 0 {
					err = usagef("option --timeout: invalid value: %s (must be more than 0)", opts.timeout)
				}
				return opts, err
			}, runUpdateIndexes),
		},
		{
			Name:      "vacuum_indexes",
			Usage:     "delete the indexes on the host that index.yaml no longer lists, asking for each",
			ArgsUsage: "[DIR]",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "delete without asking"},
			},
			Action: action(io, indexOptionsFrom, runVacuumIndexes),
		},
	}
}

// indexOptions are the options of update_indexes and vacuum_indexes.
type indexOptions struct {
	globals
	args    []string      // the DIR (or index.yaml) argument, if any
	wait    bool          // update_indexes: wait until every index serves
	timeout time.Duration // how long wait waits
	force   bool          // vacuum_indexes: delete without asking
}

func indexOptionsFrom(c *cli.Context) (indexOptions, error) {
	g, err := readGlobals(c)
	return indexOptions{globals: g, args: c.Args().Slice(), wait: c.Bool("wait"),
		timeout: c.Duration("timeout"), force: c.Bool("force")}, err
}

// indexFile loads and checks index.yaml (and app.yaml for the application
// id); defs is nil when there is none.
func indexFile(ctx context.Context, io stdio, opts indexOptions) (*companionFile, *appconfig.IndexDefinitions, error) {
	cf, err := loadCompanion(ctx, io, opts.globals, opts.args, validate.KindIndex, true)
	if err != nil {
		return nil, nil, err
	}
	defs, _ := cf.config.(*appconfig.IndexDefinitions)
	return cf, defs, nil
}

// runUpdateIndexes adds the indexes of index.yaml the host lacks and
// prints each one's state.
func runUpdateIndexes(ctx context.Context, opts indexOptions, d deps) error {
	g, io := opts.globals, d.io
	cf, defs, err := indexFile(ctx, io, opts)
	if err != nil {
		return err
	}
	if defs == nil || len(defs.Indexes) == 0 {
		// As appcfg.py: a missing or empty index.yaml is not an error.
		return emit(io, g, indexesResult{Indexes: []indexJSON{}, Extra: []indexJSON{}}, func() {
			fmt.Fprintln(io.out, "Could not find index configuration. No action taken.")
		})
	}
	app, err := cf.requireApp()
	if err != nil {
		return err
	}
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		im, err := backend.As[backend.IndexManager](b, "indexes")
		if err != nil {
			return err
		}
		rep := newReporter(io, g, false)
		defer finish(rep)
		g.statusf(io, "Uploading index definitions.")
		res, err := indexes.Update(ctx, im, app, defs, indexes.Options{Wait: opts.wait, Timeout: opts.timeout}, rep)
		finish(rep)
		if res != nil {
			if perr := emit(io, g, indexUpdateResult(app, res), func() { printIndexResult(io.out, res, opts.wait, cf.arg) }); perr != nil && err == nil {
				err = perr
			}
		}
		if err != nil {
			return fmt.Errorf("update_indexes of app %s: %w", app, err)
		}
		return nil
	})
}

// printIndexResult prints one line per index of index.yaml with its state,
// then a summary and what to do next.
//
// dir is the DIR argument as given, for the command it suggests.
func printIndexResult(w io.Writer, res *indexes.Result, waited bool, dir string) {
	for _, s := range res.Indexes {
		line := fmt.Sprintf("%s: %s", indexes.Describe(s.Index.Def), s.Index.State)
		if s.Added {
			line += " (added)"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%s in index.yaml: %d added, %d serving, %d building, %d in error.\n",
		indexCount(len(res.Indexes)), res.Added(), res.Count(backend.IndexServing),
		res.Count(backend.IndexBuilding), res.Count(backend.IndexError))
	if res.Count(backend.IndexBuilding) > 0 && !waited {
		fmt.Fprintln(w, "Indexes build in the background; `appcfg update_indexes --wait` waits until they serve.")
	}
	if n := len(res.Extra); n > 0 {
		fmt.Fprintf(w, "%s on the host %s not in index.yaml; `%s` deletes %s.\n",
			indexCount(n), isAre(n), strings.TrimSpace("appcfg vacuum_indexes "+dir), itThem(n))
	}
}

func indexCount(n int) string {
	if n == 1 {
		return "1 index"
	}
	return fmt.Sprintf("%d indexes", n)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// runVacuumIndexes deletes the host's indexes index.yaml no longer lists,
// asking about each unless forced.
func runVacuumIndexes(ctx context.Context, opts indexOptions, d deps) error {
	g, io := opts.globals, d.io
	cf, defs, err := indexFile(ctx, io, opts)
	if err != nil {
		return err
	}
	app, err := cf.requireApp()
	if err != nil {
		return err
	}
	// --quiet on a non-interactive stdin answers yes, as gcloud's --quiet
	// does; on a terminal the questions are still asked.
	force := opts.force || (g.verbosity == 0 && !io.inTTY)
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		im, err := backend.As[backend.IndexManager](b, "indexes")
		if err != nil {
			return err
		}
		g.statusf(io, "Fetching index definitions diff.")
		cands, err := indexes.Plan(ctx, im, app, defs)
		if err != nil {
			return err
		}
		if len(cands) == 0 {
			return emit(io, g, vacuumResult{App: app, Deleted: []indexJSON{}, Kept: []indexJSON{}}, func() {
				fmt.Fprintf(io.out, "No indexes to delete: every index of app %s is in index.yaml.\n", app)
			})
		}
		var confirm indexes.Confirm
		if !force {
			if !io.inTTY {
				for _, ix := range cands {
					fmt.Fprintf(io.err, "not in index.yaml: %s\n", indexes.Describe(ix.Def))
				}
				return fmt.Errorf("vacuum_indexes would delete %s (above) but stdin is not a terminal, so it cannot ask first; run it again with --force (-f) to delete %s without asking",
					indexCount(len(cands)), itThem(len(cands)))
			}
			p := newPrompter(io)
			if g.format.machine() {
				p.out = io.err // stdout is for the JSON result
			}
			confirm = p.confirm
		}
		rep := newReporter(io, g, false)
		res, err := indexes.Delete(ctx, im, app, cands, confirm, rep)
		finish(rep)
		if res != nil && (err == nil || len(res.Deleted) > 0) {
			out := vacuumResult{App: app, Deleted: indexList(res.Deleted), Kept: indexList(res.Kept)}
			perr := emit(io, g, out, func() {
				for _, ix := range res.Deleted {
					fmt.Fprintf(io.out, "Deleted %s.\n", indexes.Describe(ix.Def))
				}
				fmt.Fprintf(io.out, "%s deleted, %d kept.\n", indexCount(len(res.Deleted)), len(res.Kept))
			})
			if err == nil {
				err = perr
			}
		}
		return err
	})
}

// indexJSON is one index in the results of update_indexes and
// vacuum_indexes (docs/schemas/update_indexes.json, vacuum_indexes.json).
type indexJSON struct {
	ID         string `json:"id,omitempty"`
	Definition string `json:"definition"` // as the text output names it
	Kind       string `json:"kind"`
	Ancestor   bool   `json:"ancestor"`
	State      string `json:"state"`
	Added      bool   `json:"added"`
}

func toIndexJSON(ix backend.Index) indexJSON {
	return indexJSON{ID: ix.ID, Definition: indexes.Describe(ix.Def), Kind: ix.Def.Kind, Ancestor: ix.Def.Ancestor, State: string(ix.State)}
}

func indexList(ixs []backend.Index) []indexJSON {
	out := []indexJSON{}
	for _, ix := range ixs {
		out = append(out, toIndexJSON(ix))
	}
	return out
}

// indexesResult is update_indexes' result: each index of index.yaml with
// its state, the counts, and the indexes on the host it does not list.
type indexesResult struct {
	App      string      `json:"app,omitempty"`
	Indexes  []indexJSON `json:"indexes"`
	Added    int         `json:"added"`
	Serving  int         `json:"serving"`
	Building int         `json:"building"`
	Error    int         `json:"error"`
	Extra    []indexJSON `json:"extra"`
	Skipped  []string    `json:"skipped"`
}

func indexUpdateResult(app string, res *indexes.Result) indexesResult {
	out := indexesResult{App: app, Indexes: []indexJSON{}, Added: res.Added(), Serving: res.Count(backend.IndexServing),
		Building: res.Count(backend.IndexBuilding), Error: res.Count(backend.IndexError), Extra: indexList(res.Extra), Skipped: []string{}}
	for _, st := range res.Indexes {
		j := toIndexJSON(st.Index)
		j.Added = st.Added
		out.Indexes = append(out.Indexes, j)
	}
	for _, e := range res.Skipped {
		out.Skipped = append(out.Skipped, e.Error())
	}
	return out
}

// vacuumResult is vacuum_indexes' result.
type vacuumResult struct {
	App     string      `json:"app"`
	Deleted []indexJSON `json:"deleted"`
	Kept    []indexJSON `json:"kept"`
}

// prompter asks the legacy question on stdout and reads answers from
// stdin, one line each.
type prompter struct {
	out   io.Writer
	lines <-chan string // closed at the end of input
	// crashed holds a panic of the reader, returned by confirm when
	// lines closes: a bug, not the end of input.
	crashed crash.Catcher
}

// maxMisunderstood bounds how often one question is asked again.
const maxMisunderstood = 10

func newPrompter(io stdio) *prompter {
	lines := make(chan string)
	p := &prompter{out: io.out, lines: lines}
	go func() {
		// The reader outlives a cancelled prompt only until the process
		// exits: a read from a terminal cannot be interrupted.
		defer close(lines)
		defer p.crashed.Recover()
		sc := bufio.NewScanner(io.in)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return p
}

// errNoAnswer is the end of input before an answer.
var errNoAnswer = errors.New("no answer (end of input): nothing was deleted")

func (p *prompter) confirm(ctx context.Context, ix backend.Index) (indexes.Answer, error) {
	fmt.Fprintf(p.out, "This index is no longer defined in your index.yaml file.\n\n%s\n", indexes.YAML(ix.Def))
	for range maxMisunderstood {
		fmt.Fprint(p.out, "Are you sure you want to delete this index? (N/y/a): ")
		var line string
		select {
		case <-ctx.Done():
			fmt.Fprintln(p.out)
			return indexes.Keep, ctx.Err()
		case l, ok := <-p.lines:
			if !ok {
				fmt.Fprintln(p.out)
				if err := p.crashed.Err(); err != nil {
					return indexes.Keep, err
				}
				return indexes.Keep, errNoAnswer
			}
			line = l
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y":
			return indexes.DeleteOne, nil
		case "n", "":
			return indexes.Keep, nil
		case "a":
			return indexes.DeleteAll, nil
		}
		fmt.Fprintln(p.out, "Did not understand your response.")
	}
	return indexes.Keep, fmt.Errorf("no answer understood after %d tries: nothing was deleted", maxMisunderstood)
}
