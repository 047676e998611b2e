package indexes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/internal/progress"
)

// fakeHost is an IndexManager whose builds follow a script: each index
// stays BUILDING for buildPolls ListIndexes calls, then takes the state
// final[kind] (SERVING unless set).
type fakeHost struct {
	mu         sync.Mutex
	next       int
	indexes    map[string]*fakeIndex
	buildPolls int
	final      map[string]backend.IndexState
	lists      int
	creates    [][]backend.IndexDef
	deleted    []string
	goneOnce   map[string]bool // ids whose DeleteIndex reports ErrNotFound
}

type fakeIndex struct {
	ix    backend.Index
	polls int
}

func newFakeHost() *fakeHost {
	return &fakeHost{indexes: map[string]*fakeIndex{}, final: map[string]backend.IndexState{}, goneOnce: map[string]bool{}}
}

func (f *fakeHost) ListIndexes(ctx context.Context, app string) ([]backend.Index, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	var out []backend.Index
	for _, fi := range f.indexes {
		if fi.ix.State == backend.IndexBuilding {
			fi.polls++
			if fi.polls > f.buildPolls {
				fi.ix.State = backend.IndexServing
				if s, ok := f.final[fi.ix.Def.Kind]; ok {
					fi.ix.State = s
				}
			}
		}
		out = append(out, fi.ix)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeHost) CreateIndexes(ctx context.Context, app string, defs []backend.IndexDef) ([]backend.Index, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, defs)
	out := make([]backend.Index, len(defs))
	for i, d := range defs {
		f.next++
		id := fmt.Sprintf("ix%03d", f.next)
		f.indexes[id] = &fakeIndex{ix: backend.Index{ID: id, Def: d, State: backend.IndexBuilding}}
		out[i] = f.indexes[id].ix
	}
	return out, nil
}

func (f *fakeHost) DeleteIndex(ctx context.Context, app, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.goneOnce[id] {
		delete(f.indexes, id)
	}
	if _, ok := f.indexes[id]; !ok {
		return fmt.Errorf("no index %s: %w", id, backend.ErrNotFound)
	}
	delete(f.indexes, id)
	f.deleted = append(f.deleted, id)
	return nil
}

// put adds an index to the host directly, as another tool would have.
func (f *fakeHost) put(def backend.IndexDef, state backend.IndexState) backend.Index {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	ix := backend.Index{ID: fmt.Sprintf("ix%03d", f.next), Def: def, State: state}
	f.indexes[ix.ID] = &fakeIndex{ix: ix}
	return ix
}

// fakeClock advances only when slept on, so waits take no real time.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) options(wait bool, timeout time.Duration) Options {
	return Options{Wait: wait, Timeout: timeout, Now: c.Now, Sleep: c.Sleep}
}

// recorder keeps what a Reporter was told.
type recorder struct {
	progress.Nop
	mu             sync.Mutex
	status, warned []string
}

func (r *recorder) Status(m string) { r.mu.Lock(); r.status = append(r.status, m); r.mu.Unlock() }
func (r *recorder) Warn(m string)   { r.mu.Lock(); r.warned = append(r.warned, m); r.mu.Unlock() }

func parse(t *testing.T, src string) *appconfig.IndexDefinitions {
	t.Helper()
	defs, probs := appconfig.ParseIndex("index.yaml", []byte(src))
	for _, p := range probs {
		if !p.Warning {
			t.Fatalf("index.yaml: %s", p.String())
		}
	}
	return defs
}

const guestbook = `indexes:
- kind: Greeting
  ancestor: yes
  properties:
  - name: date
    direction: desc
- kind: Greeting
  properties:
  - name: author
  - name: date
    direction: desc
`

var (
	byDate = backend.IndexDef{Kind: "Greeting", Ancestor: true,
		Properties: []backend.IndexProperty{{Name: "date", Direction: "desc"}}}
	byAuthorDate = backend.IndexDef{Kind: "Greeting",
		Properties: []backend.IndexProperty{{Name: "author", Direction: "asc"}, {Name: "date", Direction: "desc"}}}
)

func TestKeyComparesAsTheSDK(t *testing.T) {
	base := backend.IndexDef{Kind: "K", Properties: []backend.IndexProperty{{Name: "a", Direction: "asc"}, {Name: "b", Direction: "desc"}}}
	same := []backend.IndexDef{
		{Kind: "K", Properties: []backend.IndexProperty{{Name: "a", Direction: ""}, {Name: "b", Direction: "desc"}}},
		{Kind: "K", Properties: append(append([]backend.IndexProperty{}, base.Properties...), backend.IndexProperty{Name: "__key__", Direction: "asc"})},
	}
	for _, d := range same {
		if Key(d) != Key(base) {
			t.Errorf("Key(%+v) != Key(%+v), want the same index", d, base)
		}
	}
	different := []backend.IndexDef{
		{Kind: "K", Properties: []backend.IndexProperty{{Name: "b", Direction: "desc"}, {Name: "a", Direction: "asc"}}},
		{Kind: "K", Ancestor: true, Properties: base.Properties},
		{Kind: "L", Properties: base.Properties},
		{Kind: "K", Properties: []backend.IndexProperty{{Name: "a", Direction: "asc"}, {Name: "b", Direction: "asc"}}},
		{Kind: "K", Properties: append(append([]backend.IndexProperty{}, base.Properties...), backend.IndexProperty{Name: "__key__", Direction: "desc"})},
	}
	for _, d := range different {
		if Key(d) == Key(base) {
			t.Errorf("Key(%+v) == Key(%+v), want another index", d, base)
		}
	}
}

func TestDescribeAndYAML(t *testing.T) {
	if got, want := Describe(byDate), "Greeting (ancestor; date desc)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if got, want := Describe(byAuthorDate), "Greeting (author asc, date desc)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	want := "kind: Greeting\nancestor: true\nproperties:\n- name: date\n  direction: desc\n"
	if got := YAML(byDate); got != want {
		t.Errorf("YAML =\n%s\nwant\n%s", got, want)
	}
	// The YAML reads back as the same index.
	odd := backend.IndexDef{Kind: "yes", Properties: []backend.IndexProperty{{Name: "a: b", Direction: "asc"}, {Name: "123", Direction: "desc"}}}
	for _, def := range []backend.IndexDef{byAuthorDate, odd} {
		back := parse(t, "indexes:\n- "+strings.ReplaceAll(strings.TrimSpace(YAML(def)), "\n", "\n  ")+"\n")
		if len(back.Indexes) != 1 || back.Indexes[0].Key() != Key(def) {
			t.Fatalf("YAML %q does not read back as the index: %+v", YAML(def), back.Indexes)
		}
	}
}

func TestToDefRefusesWhatTheContractCannotCarry(t *testing.T) {
	defs := parse(t, "indexes:\n- kind: Place\n  properties:\n  - name: location\n    mode: geospatial\n")
	if _, err := ToDef(defs.Indexes[0]); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("ToDef(geospatial) = %v, want ErrUnsupported naming line 2", err)
	}
	host := newFakeHost()
	rep := &recorder{}
	res, err := Update(t.Context(), host, "app", defs, Options{}, rep)
	if err != nil || len(res.Skipped) != 1 || len(res.Indexes) != 0 || len(host.creates) != 0 {
		t.Fatalf("Update with a geospatial index = %+v, %v; want it skipped, nothing created", res, err)
	}
	if len(rep.warned) != 1 {
		t.Fatalf("warnings %q, want one about the skipped index", rep.warned)
	}
}

func TestUpdateAddsMissingAndNeverDeletes(t *testing.T) {
	host := newFakeHost()
	existing := host.put(byDate, backend.IndexServing)
	extra := host.put(backend.IndexDef{Kind: "Old", Properties: []backend.IndexProperty{{Name: "x", Direction: "asc"}, {Name: "y", Direction: "asc"}}}, backend.IndexServing)
	clock := &fakeClock{now: time.Unix(0, 0)}
	res, err := Update(t.Context(), host, "app", parse(t, guestbook), clock.options(false, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(host.creates) != 1 || len(host.creates[0]) != 1 || Key(host.creates[0][0]) != Key(byAuthorDate) {
		t.Fatalf("created %+v, want only the missing index", host.creates)
	}
	if len(res.Indexes) != 2 || res.Indexes[0].Index.ID != existing.ID || res.Indexes[0].Added || !res.Indexes[1].Added {
		t.Fatalf("result %+v, want the existing index kept and the missing one added, in file order", res.Indexes)
	}
	if res.Indexes[1].Index.State != backend.IndexBuilding || res.Added() != 1 || res.Count(backend.IndexServing) != 1 {
		t.Fatalf("result %+v: want one serving, one new and building", res.Indexes)
	}
	if len(res.Extra) != 1 || res.Extra[0].ID != extra.ID || len(host.deleted) != 0 {
		t.Fatalf("extra %+v, deleted %v; want the old index reported and kept", res.Extra, host.deleted)
	}
	if len(clock.sleeps) != 0 {
		t.Fatalf("Update without Wait slept %v", clock.sleeps)
	}

	// A second run is a no-op: nothing to create.
	res, err = Update(t.Context(), host, "app", parse(t, guestbook), clock.options(false, 0), nil)
	if err != nil || len(host.creates) != 1 || res.Added() != 0 {
		t.Fatalf("second Update: %+v, %v, creates %d; want nothing created", res, err, len(host.creates))
	}
}

func TestUpdateMatchesTrailingKeyAndDuplicates(t *testing.T) {
	host := newFakeHost()
	host.put(byAuthorDate, backend.IndexServing)
	src := `indexes:
- kind: Greeting
  properties:
  - name: author
  - name: date
    direction: desc
  - name: __key__
- kind: Greeting
  properties:
  - name: author
    direction: ascending
  - name: date
    direction: descending
`
	res, err := Update(t.Context(), host, "app", parse(t, src), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(host.creates) != 0 || len(res.Indexes) != 1 || res.Indexes[0].Index.State != backend.IndexServing {
		t.Fatalf("Update of entries equal to the host's index up to a trailing __key__ asc: created %+v, result %+v; want no change", host.creates, res.Indexes)
	}
}

func TestUpdateWaitsUntilServing(t *testing.T) {
	host := newFakeHost()
	host.buildPolls = 3
	clock := &fakeClock{now: time.Unix(0, 0)}
	rep := &recorder{}
	res, err := Update(t.Context(), host, "app", parse(t, guestbook), clock.options(true, time.Minute), rep)
	if err != nil {
		t.Fatal(err)
	}
	if res.Count(backend.IndexServing) != 2 {
		t.Fatalf("after waiting: %+v, want both SERVING", res.Indexes)
	}
	// Three BUILDING answers, then SERVING on the fourth poll.
	if host.lists != 1+4 {
		t.Fatalf("ListIndexes called %d times, want 5 (one before creating, four polls)", host.lists)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if fmt.Sprint(clock.sleeps) != fmt.Sprint(want) {
		t.Fatalf("slept %v, want %v (doubling from Poll)", clock.sleeps, want)
	}
	var changes int
	for _, s := range rep.status {
		if strings.Contains(s, ": SERVING (") {
			changes++
		}
	}
	if changes != 2 {
		t.Fatalf("status lines %q, want one per index reaching SERVING", rep.status)
	}
}

func TestUpdateWaitTimesOut(t *testing.T) {
	host := newFakeHost()
	host.buildPolls = 1000
	clock := &fakeClock{now: time.Unix(0, 0)}
	res, err := Update(t.Context(), host, "app", parse(t, guestbook), clock.options(true, 40*time.Second), nil)
	if !errors.Is(err, ErrTimeout) || res == nil || res.Count(backend.IndexBuilding) != 2 {
		t.Fatalf("Update = %+v, %v; want ErrTimeout with both indexes BUILDING", res, err)
	}
	var total time.Duration
	for _, d := range clock.sleeps {
		total += d
		if d > MaxPoll {
			t.Errorf("slept %s at once, more than MaxPoll", d)
		}
	}
	if total != 40*time.Second {
		t.Fatalf("waited %s in all, want exactly the 40s timeout", total)
	}
}

func TestUpdateReportsErrorState(t *testing.T) {
	host := newFakeHost()
	host.final["Greeting"] = backend.IndexError
	clock := &fakeClock{now: time.Unix(0, 0)}
	res, err := Update(t.Context(), host, "app", parse(t, guestbook), clock.options(true, time.Minute), nil)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "Greeting (ancestor; date desc)") {
		t.Fatalf("Update = %v; want ErrFailed naming the index", err)
	}
	if res.Count(backend.IndexError) != 2 {
		t.Fatalf("result %+v, want both in ERROR", res.Indexes)
	}
	// Without Wait an index already in ERROR fails the update too.
	_, err = Update(t.Context(), host, "app", parse(t, guestbook), Options{}, nil)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Update without Wait of failed indexes = %v, want ErrFailed", err)
	}
}

func TestUpdateWaitHonoursCancel(t *testing.T) {
	host := newFakeHost()
	host.buildPolls = 1000
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Update(ctx, host, "app", parse(t, guestbook), Options{Wait: true}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestPlanAndDelete(t *testing.T) {
	host := newFakeHost()
	kept := host.put(byDate, backend.IndexServing)
	// The same index as index.yaml's second entry, spelled with the
	// trailing key: not a candidate.
	host.put(backend.IndexDef{Kind: "Greeting", Properties: append(append([]backend.IndexProperty{}, byAuthorDate.Properties...),
		backend.IndexProperty{Name: "__key__", Direction: "asc"})}, backend.IndexServing)
	reordered := host.put(backend.IndexDef{Kind: "Greeting", Properties: []backend.IndexProperty{
		{Name: "date", Direction: "desc"}, {Name: "author", Direction: "asc"}}}, backend.IndexServing)
	noAncestor := host.put(backend.IndexDef{Kind: "Greeting", Properties: byDate.Properties}, backend.IndexError)
	host.put(backend.IndexDef{Kind: "Going", Properties: byDate.Properties}, backend.IndexDeleting)
	other := host.put(backend.IndexDef{Kind: "Other", Properties: byDate.Properties}, backend.IndexBuilding)

	cands, err := Plan(t.Context(), host, "app", parse(t, guestbook))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cands {
		ids = append(ids, c.ID)
	}
	if want := []string{reordered.ID, noAncestor.ID, other.ID}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("Plan = %v, want %v (order significant, ancestor significant, DELETING left out)", ids, want)
	}

	t.Run("answers n, y, n", func(t *testing.T) {
		h := cloneHost(host)
		answers := []Answer{Keep, DeleteOne, Keep}
		var asked int
		res, err := Delete(t.Context(), h, "app", cands, func(_ context.Context, ix backend.Index) (Answer, error) {
			asked++
			return answers[asked-1], nil
		}, nil)
		if err != nil || asked != 3 || len(res.Deleted) != 1 || res.Deleted[0].ID != noAncestor.ID || len(res.Kept) != 2 {
			t.Fatalf("Delete = %+v, %v after %d questions; want only the second deleted", res, err, asked)
		}
	})
	t.Run("answer a deletes the rest without asking", func(t *testing.T) {
		h := cloneHost(host)
		var asked int
		res, err := Delete(t.Context(), h, "app", cands, func(_ context.Context, ix backend.Index) (Answer, error) {
			asked++
			if asked == 1 {
				return Keep, nil
			}
			return DeleteAll, nil
		}, nil)
		if err != nil || asked != 2 || len(res.Deleted) != 2 || len(res.Kept) != 1 {
			t.Fatalf("Delete = %+v, %v after %d questions; want 2 questions, 2 deleted", res, err, asked)
		}
		if _, ok := h.indexes[kept.ID]; !ok {
			t.Fatal("an index of index.yaml was deleted")
		}
	})
	t.Run("nil confirm deletes all", func(t *testing.T) {
		h := cloneHost(host)
		res, err := Delete(t.Context(), h, "app", cands, nil, nil)
		if err != nil || len(res.Deleted) != 3 {
			t.Fatalf("Delete(force) = %+v, %v; want 3 deleted", res, err)
		}
	})
	t.Run("confirm error deletes nothing", func(t *testing.T) {
		h := cloneHost(host)
		boom := errors.New("stdin closed")
		var asked int
		_, err := Delete(t.Context(), h, "app", cands, func(context.Context, backend.Index) (Answer, error) {
			asked++
			if asked == 2 {
				return Keep, boom
			}
			return DeleteOne, nil
		}, nil)
		if !errors.Is(err, boom) || len(h.deleted) != 0 {
			t.Fatalf("Delete = %v, deleted %v; want the error and nothing deleted", err, h.deleted)
		}
	})
	t.Run("already gone is a warning", func(t *testing.T) {
		h := cloneHost(host)
		h.goneOnce[other.ID] = true
		rep := &recorder{}
		res, err := Delete(t.Context(), h, "app", cands, nil, rep)
		if err != nil || len(res.Gone) != 1 || len(res.Deleted) != 2 {
			t.Fatalf("Delete = %+v, %v; want one gone, two deleted", res, err)
		}
		if len(rep.warned) != 1 || !strings.HasPrefix(rep.warned[0], "An index was not deleted.") {
			t.Fatalf("warnings %q, want the legacy 'An index was not deleted.'", rep.warned)
		}
	})
}

func TestPlanWithoutIndexYAML(t *testing.T) {
	host := newFakeHost()
	host.put(byDate, backend.IndexServing)
	host.put(byAuthorDate, backend.IndexServing)
	cands, err := Plan(t.Context(), host, "app", nil)
	if err != nil || len(cands) != 2 {
		t.Fatalf("Plan without index.yaml = %+v, %v; want every host index", cands, err)
	}
}

func cloneHost(f *fakeHost) *fakeHost {
	c := newFakeHost()
	c.next = f.next
	for id, fi := range f.indexes {
		cp := *fi
		c.indexes[id] = &cp
	}
	return c
}

// TestAgainstLocalBackend runs update, wait and vacuum against the real
// local store.
func TestAgainstLocalBackend(t *testing.T) {
	b, err := local.Open(t.Context(), "", local.Config{Root: t.TempDir()}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	res, err := Update(t.Context(), b, "guestbook", parse(t, guestbook), Options{Wait: true, Poll: time.Millisecond, Timeout: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added() != 2 || res.Count(backend.IndexServing) != 2 {
		t.Fatalf("first update: %+v, want two indexes added and serving", res.Indexes)
	}
	res, err = Update(t.Context(), b, "guestbook", parse(t, guestbook), Options{}, nil)
	if err != nil || res.Added() != 0 || res.Count(backend.IndexServing) != 2 {
		t.Fatalf("second update: %+v, %v; want a no-op", res, err)
	}
	smaller := parse(t, "indexes:\n- kind: Greeting\n  ancestor: true\n  properties:\n  - name: date\n    direction: desc\n")
	cands, err := Plan(t.Context(), b, "guestbook", smaller)
	if err != nil || len(cands) != 1 || Key(cands[0].Def) != Key(byAuthorDate) {
		t.Fatalf("Plan = %+v, %v; want the index no longer listed", cands, err)
	}
	if _, err := Delete(t.Context(), b, "guestbook", cands, nil, nil); err != nil {
		t.Fatal(err)
	}
	left, err := b.ListIndexes(t.Context(), "guestbook")
	if err != nil || len(left) != 1 || Key(left[0].Def) != Key(byDate) {
		t.Fatalf("after vacuum: %+v, %v; want only the index of index.yaml", left, err)
	}
}

// TestLocalBuildErrorFailsUpdate: an index the local store cannot build over
// its entities ends the wait with ErrFailed.
func TestLocalBuildErrorFailsUpdate(t *testing.T) {
	b, err := local.Open(t.Context(), "", local.Config{Root: t.TempDir()}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// 150 authors and 150 dates make 22,500 entries in (author, date):
	// an exploding index, over the 20,000 one entity may have. (A string
	// too long to index no longer gets stored: every backend refuses it.)
	authors, dates := backend.Value{Type: backend.ArrayType}, backend.Value{Type: backend.ArrayType}
	for i := range 150 {
		authors.Array = append(authors.Array, backend.Value{Type: backend.StringType, String: fmt.Sprint("a", i)})
		dates.Array = append(dates.Array, backend.Value{Type: backend.IntType, Int: int64(i)})
	}
	long := backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Greeting", ID: 1}}},
		Properties: map[string]backend.Value{"author": authors, "date": dates}}
	if _, err := b.PutEntities(t.Context(), "guestbook", []backend.Entity{long}); err != nil {
		t.Fatal(err)
	}
	res, err := Update(t.Context(), b, "guestbook", parse(t, guestbook), Options{Wait: true, Poll: time.Millisecond, Timeout: time.Minute}, nil)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "Greeting (author asc, date desc)") {
		t.Fatalf("Update = %v, want ErrFailed naming the exploding index", err)
	}
	// The ancestor index has no author: it builds.
	if res.Count(backend.IndexServing) != 1 || res.Count(backend.IndexError) != 1 {
		t.Fatalf("result %+v, want one SERVING and one ERROR", res.Indexes)
	}
}
