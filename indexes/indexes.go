package indexes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/progress"
)

// Errors callers test for with errors.Is.
var (
	// ErrFailed: an index of index.yaml is in the ERROR state on the host.
	ErrFailed = errors.New("an index failed to build")
	// ErrTimeout: Update with Wait gave up before every index served.
	ErrTimeout = errors.New("timed out waiting for the indexes to serve")
	// ErrUnsupported: a definition (geospatial or vector) that the
	// backend's index contract cannot carry.
	ErrUnsupported = errors.New("index kind not supported by the backend contract")
)

// Defaults of Options.
const (
	DefaultTimeout = 10 * time.Minute
	DefaultPoll    = time.Second
	// MaxPoll caps the interval between polls: it grows from Poll so that a
	// long build costs few requests, but never so much that a finished
	// build goes unnoticed for long.
	MaxPoll = 15 * time.Second
)

// ToDef converts an index.yaml entry into the backend's definition. A
// missing direction is asc, as the SDK normalises it. Geospatial and vector
// properties have no place in backend.IndexDef and give ErrUnsupported.
func ToDef(ix *appconfig.Index) (backend.IndexDef, error) {
	def := backend.IndexDef{Kind: ix.Kind, Ancestor: ix.Ancestor}
	for _, p := range ix.Properties {
		switch {
		case p.Mode != "":
			return def, fmt.Errorf("%s: property %s has mode %s: %w", where(ix), p.Name, p.Mode, ErrUnsupported)
		case p.VectorConfig != nil:
			return def, fmt.Errorf("%s: property %s is a vector: %w", where(ix), p.Name, ErrUnsupported)
		}
		dir := "asc"
		if p.Direction == "desc" || p.Direction == "descending" {
			dir = "desc"
		}
		def.Properties = append(def.Properties, backend.IndexProperty{Name: p.Name, Direction: dir})
	}
	return def, nil
}

// FromDef is the index.yaml entry of a backend definition.
func FromDef(def backend.IndexDef) *appconfig.Index {
	ix := &appconfig.Index{Kind: def.Kind, Ancestor: def.Ancestor}
	for _, p := range def.Properties {
		dir := p.Direction
		if dir == "" {
			dir = "asc"
		}
		ix.Properties = append(ix.Properties, appconfig.Property{Name: p.Name, Direction: dir})
	}
	return ix
}

// Key is the comparison key of a backend definition, the same as the key of
// the index.yaml entry it came from.
func Key(def backend.IndexDef) appconfig.IndexKey { return FromDef(def).Key() }

// Describe is a one-line name of an index for messages:
// "Greeting (ancestor; author asc, date desc)".
func Describe(def backend.IndexDef) string {
	props := make([]string, len(def.Properties))
	for i, p := range def.Properties {
		dir := p.Direction
		if dir == "" {
			dir = "asc"
		}
		props[i] = p.Name + " " + dir
	}
	s := strings.Join(props, ", ")
	if def.Ancestor {
		s = "ancestor; " + s
	}
	return def.Kind + " (" + strings.TrimSuffix(s, "; ") + ")"
}

// YAML is the index as an index.yaml entry, laid out as the legacy tool
// printed it before asking whether to delete it (PyYAML's block style: list
// items at the indentation of their key).
func YAML(def backend.IndexDef) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kind: %s\n", scalar(def.Kind))
	if def.Ancestor {
		b.WriteString("ancestor: true\n")
	}
	if len(def.Properties) > 0 {
		b.WriteString("properties:\n")
	}
	for _, p := range def.Properties {
		dir := p.Direction
		if dir == "" {
			dir = "asc"
		}
		fmt.Fprintf(&b, "- name: %s\n  direction: %s\n", scalar(p.Name), scalar(dir))
	}
	return b.String()
}

// scalar is s as a YAML scalar, quoted only where YAML needs it (a name
// such as "yes" or "a: b" would otherwise read back as something else).
func scalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		// Marshalling a string cannot fail; quote it all the same.
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// where names an index.yaml entry for messages: its kind and line.
func where(ix *appconfig.Index) string {
	if ix.Meta.Pos.Line > 0 {
		return fmt.Sprintf("index on %s (line %d)", ix.Kind, ix.Meta.Pos.Line)
	}
	return "index on " + ix.Kind
}

// Options tune Update.
type Options struct {
	// Wait polls the host until every index of index.yaml serves, one
	// fails, or Timeout passes.
	Wait bool
	// Timeout bounds the wait; 0 is DefaultTimeout.
	Timeout time.Duration
	// Poll is the first interval between polls; it doubles up to MaxPoll.
	// 0 is DefaultPoll.
	Poll time.Duration
	// Now and Sleep are the clock; nil uses the real one. Sleep returns
	// early with ctx's error when ctx ends.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status is one index of index.yaml and its state on the host.
type Status struct {
	// Def is the entry of index.yaml (its first one, when the file
	// lists the same index twice).
	Def *appconfig.Index
	// Index is the index as the host reports it.
	Index backend.Index
	// Added is true when this update created it.
	Added bool
}

// Result is what Update found and did.
type Result struct {
	// Indexes are index.yaml's indexes in file order, each once.
	Indexes []Status
	// Skipped are entries the backend cannot hold (ErrUnsupported),
	// each with the reason.
	Skipped []error
	// Extra are indexes on the host that index.yaml does not list;
	// Update never deletes them (vacuum_indexes does).
	Extra []backend.Index
}

// Count returns how many indexes of r are in state.
func (r *Result) Count(state backend.IndexState) int {
	n := 0
	for _, s := range r.Indexes {
		if s.Index.State == state {
			n++
		}
	}
	return n
}

// Added returns how many indexes this update created.
func (r *Result) Added() int {
	n := 0
	for _, s := range r.Indexes {
		if s.Added {
			n++
		}
	}
	return n
}

// Update sends index.yaml's definitions to the host: the ones the host
// lacks are created, the others left as they are, and nothing is deleted.
// It returns each index's state; with opts.Wait it first polls until all
// serve. An index in the ERROR state gives an error wrapping ErrFailed, with
// the result.
func Update(ctx context.Context, im backend.IndexManager, app string, defs *appconfig.IndexDefinitions, opts Options, rep progress.Reporter) (*Result, error) {
	rep = progress.Or(rep)
	opts = opts.withDefaults()
	res := &Result{}
	var want []*appconfig.Index
	wantDefs := map[appconfig.IndexKey]backend.IndexDef{}
	if defs != nil {
		for _, ix := range defs.Indexes {
			if ix == nil {
				continue
			}
			def, err := ToDef(ix)
			if err != nil {
				res.Skipped = append(res.Skipped, err)
				rep.Warn(fmt.Sprintf("%v: skipped", err))
				continue
			}
			if _, dup := wantDefs[ix.Key()]; dup {
				continue
			}
			wantDefs[ix.Key()] = def
			want = append(want, ix)
		}
	}
	host, err := im.ListIndexes(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("listing the indexes of app %s: %w", app, err)
	}
	onHost := map[appconfig.IndexKey]backend.Index{}
	for _, h := range host {
		if h.State == backend.IndexDeleting {
			continue // going away: a definition that matches it must be created again
		}
		k := Key(h.Def)
		if _, ok := wantDefs[k]; !ok {
			res.Extra = append(res.Extra, h)
		}
		if _, seen := onHost[k]; !seen {
			onHost[k] = h
		}
	}
	var missing []backend.IndexDef
	for _, ix := range want {
		if _, ok := onHost[ix.Key()]; !ok {
			missing = append(missing, wantDefs[ix.Key()])
		}
	}
	if len(missing) > 0 {
		created, err := im.CreateIndexes(ctx, app, missing)
		if err != nil {
			return nil, fmt.Errorf("creating %d index(es) of app %s: %w", len(missing), app, err)
		}
		if len(created) != len(missing) {
			return nil, fmt.Errorf("creating the indexes of app %s: the host answered %d indexes for %d definitions", app, len(created), len(missing))
		}
		for _, c := range created {
			onHost[Key(c.Def)] = c
		}
	}
	added := map[string]bool{}
	for _, d := range missing {
		added[onHost[Key(d)].ID] = true
	}
	for _, ix := range want {
		h, ok := onHost[ix.Key()]
		if !ok {
			return nil, fmt.Errorf("%s: the host did not return the index it was asked to create", where(ix))
		}
		res.Indexes = append(res.Indexes, Status{Def: ix, Index: h, Added: added[h.ID]})
	}
	if opts.Wait {
		if err := wait(ctx, im, app, res, opts, rep); err != nil {
			return res, err
		}
	}
	return res, failed(res)
}

// failed is an error naming the indexes in the ERROR state, or nil.
func failed(res *Result) error {
	var names []string
	for _, s := range res.Indexes {
		if s.Index.State == backend.IndexError {
			names = append(names, Describe(s.Index.Def))
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s. The host could not build it over the stored entities (an entity with too many index entries, or a value too large to index); fix the data, then remove the index from index.yaml, run vacuum_indexes, put it back and run update_indexes again",
		ErrFailed, strings.Join(names, "; "))
}

// wait polls until every index of res serves, one fails, or the timeout
// passes, reporting each change of state. Polls are at most
// opts.Timeout/opts.Poll + 1, and the wait at most opts.Timeout.
func wait(ctx context.Context, im backend.IndexManager, app string, res *Result, opts Options, rep progress.Reporter) error {
	pending := func() int { return len(res.Indexes) - res.Count(backend.IndexServing) - res.Count(backend.IndexError) }
	if pending() == 0 {
		return nil
	}
	rep.Status(fmt.Sprintf("Waiting for %d index(es) to serve (at most %s).", pending(), opts.Timeout))
	deadline := opts.Now().Add(opts.Timeout)
	interval := opts.Poll
	maxPolls := int(opts.Timeout/opts.Poll) + 1
	for poll := 0; pending() > 0 && res.Count(backend.IndexError) == 0; poll++ {
		left := deadline.Sub(opts.Now())
		if left <= 0 || poll >= maxPolls {
			return fmt.Errorf("%w after %s: %d of %d index(es) still build; they keep building on the host, so run update_indexes --wait again to wait longer",
				ErrTimeout, opts.Timeout, pending(), len(res.Indexes))
		}
		if err := opts.Sleep(ctx, min(interval, left)); err != nil {
			return fmt.Errorf("waiting for the indexes of app %s: %w", app, err)
		}
		interval = min(2*interval, MaxPoll)
		host, err := im.ListIndexes(ctx, app)
		if err != nil {
			return fmt.Errorf("polling the indexes of app %s: %w", app, err)
		}
		byID := make(map[string]backend.Index, len(host))
		for _, h := range host {
			byID[h.ID] = h
		}
		for i := range res.Indexes {
			s := &res.Indexes[i]
			h, ok := byID[s.Index.ID]
			if !ok {
				return fmt.Errorf("index %s was deleted from the host while waiting for it to serve; run update_indexes again to create it", Describe(s.Index.Def))
			}
			if h.State != s.Index.State {
				s.Index.State = h.State
				rep.Status(fmt.Sprintf("%s: %s (%d of %d serve)", Describe(s.Index.Def), h.State,
					res.Count(backend.IndexServing), len(res.Indexes)))
			}
		}
	}
	return nil
}

// Plan returns the indexes on the host that defs (index.yaml; nil when there
// is none) no longer lists: the candidates for deletion, in the host's
// order. Indexes already being deleted are left out.
func Plan(ctx context.Context, im backend.IndexManager, app string, defs *appconfig.IndexDefinitions) ([]backend.Index, error) {
	keep := map[appconfig.IndexKey]bool{}
	if defs != nil {
		for _, ix := range defs.Indexes {
			if ix != nil {
				keep[ix.Key()] = true
			}
		}
	}
	host, err := im.ListIndexes(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("listing the indexes of app %s: %w", app, err)
	}
	var out []backend.Index
	for _, h := range host {
		if h.State != backend.IndexDeleting && !keep[Key(h.Def)] {
			out = append(out, h)
		}
	}
	return out, nil
}

// Answer is the reply to "delete this index?".
type Answer int

// The answers, as the legacy prompt's n, y and a.
const (
	Keep      Answer = iota // n: keep this index
	DeleteOne               // y: delete this index
	DeleteAll               // a: delete this one and every later one without asking
)

// Confirm asks whether to delete ix. An error stops Delete before anything
// is deleted.
type Confirm func(ctx context.Context, ix backend.Index) (Answer, error)

// VacuumResult is what Delete did.
type VacuumResult struct {
	Deleted []backend.Index
	Kept    []backend.Index
	// Gone were chosen but already absent from the host (deleted by
	// someone else meanwhile).
	Gone []backend.Index
}

// Delete asks confirm about each candidate (nil confirm deletes them all),
// then deletes the chosen ones. As in the legacy tool, every question is
// answered before the first deletion, so an interrupted prompt deletes
// nothing.
func Delete(ctx context.Context, im backend.IndexManager, app string, candidates []backend.Index, confirm Confirm, rep progress.Reporter) (*VacuumResult, error) {
	rep = progress.Or(rep)
	res := &VacuumResult{}
	var chosen []backend.Index
	all := confirm == nil
	for _, ix := range candidates {
		if !all {
			a, err := confirm(ctx, ix)
			if err != nil {
				return res, err
			}
			if a == Keep {
				res.Kept = append(res.Kept, ix)
				continue
			}
			all = a == DeleteAll
		}
		chosen = append(chosen, ix)
	}
	if len(chosen) == 0 {
		return res, nil
	}
	rep.Status("Deleting selected index definitions.")
	for _, ix := range chosen {
		err := im.DeleteIndex(ctx, app, ix.ID)
		switch {
		case errors.Is(err, backend.ErrNotFound):
			res.Gone = append(res.Gone, ix)
		case err != nil:
			return res, fmt.Errorf("deleting index %s of app %s: %w", Describe(ix.Def), app, err)
		default:
			res.Deleted = append(res.Deleted, ix)
		}
	}
	if n := len(res.Gone); n > 0 {
		msg := "An index was not deleted.  Most likely this is because it no longer exists."
		if n > 1 {
			msg = fmt.Sprintf("%d indexes were not deleted.  Most likely this is because they no longer exist.", n)
		}
		for _, ix := range res.Gone {
			msg += "\n" + YAML(ix.Def)
		}
		rep.Warn(strings.TrimRight(msg, "\n"))
	}
	return res, nil
}
