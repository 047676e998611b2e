package bulkload

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// memStore is an in-memory Entities with a hook run before each put, to
// inject failures and interruptions.
type memStore struct {
	mu       sync.Mutex
	ents     map[string]backend.Entity
	puts     int
	maxBatch int // most batches one call stored (batchStore)
	before   func(call int, ents []backend.Entity) error
	after    func(call int)
	nextID   int64 // ids allocated
	allocs   int
	queries  int
	query    func(call int) error // run before each QueryEntities
}

func newMemStore() *memStore { return &memStore{ents: map[string]backend.Entity{}} }

func (m *memStore) PutEntities(ctx context.Context, app string, ents []backend.Entity) ([]backend.Key, error) {
	if len(ents) > backend.MaxEntityBatch {
		return nil, fmt.Errorf("%d entities in one put", len(ents))
	}
	return m.putAny(ctx, app, ents)
}

// putAny stores ents as one put, whatever their number.
func (m *memStore) putAny(ctx context.Context, app string, ents []backend.Entity) ([]backend.Key, error) {
	m.mu.Lock()
	m.puts++
	call := m.puts
	hook, after := m.before, m.after
	m.mu.Unlock()
	if hook != nil {
		if err := hook(call, ents); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := make([]backend.Key, len(ents))
	m.mu.Lock()
	for i, e := range ents {
		last := e.Key.Path[len(e.Key.Path)-1]
		if last.ID == 0 && last.Name == "" {
			m.mu.Unlock()
			return nil, errors.New("incomplete key: the loader must name every entity")
		}
		// A store keeps no reference to what it was given (see
		// backend.Entities): the loader refills the maps.
		e.Properties = maps.Clone(e.Properties)
		m.ents[app+"|"+keyString(e.Key)] = e
		keys[i] = *e.Key
	}
	m.mu.Unlock()
	if after != nil {
		after(call)
	}
	return keys, nil
}

// AllocateIDs hands out ids as Datastore does: never twice.
func (m *memStore) AllocateIDs(ctx context.Context, app string, key backend.Key, n int) ([]backend.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.allocs++
	keys := make([]backend.Key, n)
	for i := range keys {
		m.nextID++
		k := key
		k.Path = append([]backend.PathElement(nil), key.Path...)
		k.Path[len(k.Path)-1].ID = 1000 + m.nextID
		keys[i] = k
	}
	return keys, nil
}

func (m *memStore) QueryEntities(ctx context.Context, app string, q backend.EntityQuery, cursor string, limit int) ([]backend.Entity, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queries++
	if m.query != nil {
		if err := m.query(m.queries); err != nil {
			return nil, "", err
		}
	}
	var names []string
	for k, e := range m.ents {
		if strings.HasPrefix(k, app+"|") && e.Key.Namespace == q.Namespace && e.Key.Path[len(e.Key.Path)-1].Kind == q.Kind {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	start := 0
	if cursor != "" {
		start, _ = strconv.Atoi(cursor)
	}
	end := min(start+limit, len(names))
	var out []backend.Entity
	for _, n := range names[start:end] {
		out = append(out, m.ents[n])
	}
	next := ""
	if end < len(names) {
		next = strconv.Itoa(end)
	}
	return out, next, nil
}

func (m *memStore) Kinds(ctx context.Context, app, ns string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for k, e := range m.ents {
		if strings.HasPrefix(k, app+"|") && e.Key.Namespace == ns {
			seen[e.Key.Path[len(e.Key.Path)-1].Kind] = true
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// noKeyConfig has no __key__: entities get ids the store allocates.
const noKeyConfig = `transformers:
- kind: Row
  connector: csv
  property_map:
  - property: n
    external_name: n
    import_transform: int
  - property: label
    external_name: label
`

func writeRows(t *testing.T, path string, n int, bad map[int]bool) {
	t.Helper()
	var b strings.Builder
	b.WriteString("n,label\n")
	for i := 1; i <= n; i++ {
		if bad[i] {
			fmt.Fprintf(&b, "x%d,bad\n", i)
		} else {
			fmt.Fprintf(&b, "%d,row %d\n", i, i)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func uploadOpts(t *testing.T, dir string, cfgSrc string) Options {
	t.Helper()
	cfg, err := ParseConfig("bulkloader.yaml", []byte(cfgSrc))
	if err != nil {
		t.Fatal(err)
	}
	return Options{App: "app", Filename: filepath.Join(dir, "rows.csv"), Config: cfg, BatchSize: 7, NumThreads: 4,
		DBFilename: filepath.Join(dir, "progress.sql3"), Backend: "mem"}
}

// rowsUpload writes rows numbered rows to a new directory and returns the
// options of their upload through cfgSrc, and an empty store.
func rowsUpload(t *testing.T, rows int, cfgSrc string) (Options, *memStore) {
	t.Helper()
	dir := t.TempDir()
	writeRows(t, filepath.Join(dir, "rows.csv"), rows, nil)
	return uploadOpts(t, dir, cfgSrc), newMemStore()
}

// checkExactlyOnce asserts the store holds rows 1..n, each once.
func checkExactlyOnce(t *testing.T, m *memStore, n int) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	count := map[int64]int{}
	for _, e := range m.ents {
		count[e.Properties["n"].Int]++
	}
	if len(m.ents) != n {
		t.Errorf("store holds %d entities, want %d", len(m.ents), n)
	}
	for i := 1; i <= n; i++ {
		if count[int64(i)] != 1 {
			t.Errorf("row %d stored %d times", i, count[int64(i)])
		}
	}
}

// An upload cancelled mid-run (as by Ctrl-C, after a put the progress
// database never heard back from) resumes: every row ends up stored once.
func TestUploadResumesAfterInterrupt(t *testing.T) {
	const rows = 1000
	for _, grouped := range []bool{false, true} {
		stops := []int{1, 13, 90}
		if grouped {
			stops = []int{1, 5, 12} // groups of batches make fewer puts
		}
		for _, stopAt := range stops {
			t.Run(fmt.Sprint("stop at put ", stopAt, ", grouped ", grouped), func(t *testing.T) {
				testResume(t, rows, stopAt, grouped)
			})
		}
	}
}

// batchStore is a memStore that also takes several batches in one call,
// as the local store does, so loads send it groups of batches.
type batchStore struct{ *memStore }

func (b batchStore) PutEntityBatches(ctx context.Context, app string, batches [][]backend.Entity) ([][]backend.Key, error) {
	var all []backend.Entity
	for _, ents := range batches {
		all = append(all, ents...)
	}
	b.mu.Lock()
	b.maxBatch = max(b.maxBatch, len(batches))
	b.mu.Unlock()
	keys, err := b.putAny(ctx, app, all)
	if err != nil {
		return nil, err
	}
	out := make([][]backend.Key, len(batches))
	for i, ents := range batches {
		out[i], keys = keys[:len(ents)], keys[len(ents):]
	}
	return out, nil
}

func testResume(t *testing.T, rows, stopAt int, grouped bool) {
	dir := t.TempDir()
	writeRows(t, filepath.Join(dir, "rows.csv"), rows, nil)
	o := uploadOpts(t, dir, noKeyConfig)
	m := newMemStore()
	var store backend.Entities = m
	// With a store that takes groups, the interrupted run stops at the
	// first put from stopAt on that comes after a group was stored (past
	// the first put, which holdPuts makes a single batch's), so the
	// grouped path is taken before the interruption, whatever the load.
	wantGroup := grouped && stopAt > 1
	if grouped {
		store = batchStore{m}
		holdPuts(t, m, 10)
	}
	ctx, cancel := context.WithCancel(t.Context())
	m.after = func(call int) {
		m.mu.Lock()
		grouped := m.maxBatch >= 2
		m.mu.Unlock()
		if call >= stopAt && (grouped || !wantGroup) {
			cancel() // the put landed, but the run dies before recording it
		}
	}
	sum, err := Upload(ctx, store, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	first := len(m.ents)
	if first == 0 || first >= rows {
		t.Fatalf("interrupted run stored %d of %d rows; want a partial load", first, rows)
	}
	m.after, m.before = nil, nil
	sum, err = Upload(t.Context(), store, o)
	if err != nil {
		t.Fatal(err)
	}
	// Each worker records its batch before taking the next, so all
	// but the last NumThreads puts before the stop are recorded.
	if sum.Total != rows || sum.Previously+sum.Loaded != rows || (stopAt > o.NumThreads && sum.Previously == 0) || sum.Failed != 0 {
		t.Errorf("resumed run summary %+v: want %d total, split between previously and now", sum, rows)
	}
	checkExactlyOnce(t, m, rows)
	// A third run has nothing left to do.
	puts := m.puts
	sum, err = Upload(t.Context(), store, o)
	if err != nil || sum.Previously != rows || m.puts != puts {
		t.Errorf("third run: %+v, %v, %d puts; want all previously transferred and no puts", sum, err, m.puts-puts)
	}
}

// holdPuts holds every put of m until n batches have been converted since
// (their ids allocated: the config gives no keys, and a conversion
// allocates its batch's ids in one call), so converted batches queue and
// the next storer takes several at once. A fixed sleep per put did not
// make them queue under the race detector at load 30, where a conversion
// (its ids recorded in the progress database) took longer than the sleep.
// While the uploader's four storers each hold a put of one batch, its four
// converters hold at most one batch each: ten conversions leave at least
// two queued for the first storer let go. The wait is bounded, so a wrong
// count fails the test instead of hanging it.
func holdPuts(t *testing.T, m *memStore, n int) {
	m.mu.Lock()
	start := m.allocs
	m.mu.Unlock()
	m.before = func(int, []backend.Entity) error {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			m.mu.Lock()
			done := m.allocs - start
			m.mu.Unlock()
			if done >= n {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("holdPuts: %d of %d conversions after a minute", done, n)
			}
		}
	}
}

// Failing puts (a flaky host) are retried; a host failing for good stops
// the run, and the rerun completes it.
func TestUploadRetriesAndResumesAfterFailure(t *testing.T) {
	const rows = 300
	o, m := rowsUpload(t, rows, noKeyConfig)
	m.before = func(call int, _ []backend.Entity) error {
		switch {
		case call%5 == 0 && call < 40:
			return errors.New("HTTP 500")
		case call >= 40:
			return errors.New("host down")
		}
		return nil
	}
	_, err := Upload(t.Context(), m, o)
	if err == nil || !strings.Contains(err.Error(), "host down") || !strings.Contains(err.Error(), "rerun") {
		t.Fatalf("run against a failing host: %v", err)
	}
	m.before = nil
	if _, err := Upload(t.Context(), m, o); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, m, rows)
}

func TestUploadRefusesChangedOptions(t *testing.T) {
	dir := t.TempDir()
	writeRows(t, filepath.Join(dir, "rows.csv"), 20, nil)
	o := uploadOpts(t, dir, noKeyConfig)
	m := newMemStore()
	if _, err := Upload(t.Context(), m, o); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(o *Options){
		"namespace": func(o *Options) { o.Namespace = "other" },
		"app":       func(o *Options) { o.App = "other" },
		"config": func(o *Options) {
			cfg, _ := ParseConfig("bulkloader.yaml", []byte(noKeyConfig+"  - property: extra\n    external_name: label\n"))
			o.Config = cfg
		},
		"has_header": func(o *Options) { o.HasHeader = true },
	} {
		o2 := o
		change(&o2)
		_, err := Upload(t.Context(), m, o2)
		var se *SignatureError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "Database signature mismatch") {
			t.Errorf("changed %s: %v, want a signature mismatch", name, err)
		}
	}
	// Another batch size is not a change of what is loaded: it resumes.
	o.BatchSize = 3
	if sum, err := Upload(t.Context(), m, o); err != nil || sum.Previously != 20 {
		t.Errorf("other batch size: %+v, %v", sum, err)
	}
}

// Rows that fail to convert are reported with their lines and retried by
// the next run once fixed; a shorter input than recorded is refused.
func TestUploadFailedRowsAndMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rows.csv")
	writeRows(t, path, 50, map[int]bool{4: true, 30: true})
	o := uploadOpts(t, dir, noKeyConfig)
	m := newMemStore()
	sum, err := Upload(t.Context(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 2 || sum.Loaded != 48 || len(sum.Failures) != 2 {
		t.Fatalf("summary %+v, want 2 failed, 48 loaded", sum)
	}
	lines := []int{sum.Failures[0].Line, sum.Failures[1].Line}
	sort.Ints(lines)
	if lines[0] != 5 || lines[1] != 31 || !strings.Contains(sum.Failures[0].Err.Error(), "invalid literal for int()") {
		t.Errorf("failures %+v, want lines 5 and 31 with the int() message", sum.Failures)
	}
	writeRows(t, path, 50, nil)
	sum, err = Upload(t.Context(), m, o)
	if err != nil || sum.Loaded != 2 || sum.Previously != 48 || sum.Failed != 0 {
		t.Fatalf("after fixing: %+v, %v; want the 2 fixed rows loaded", sum, err)
	}
	checkExactlyOnce(t, m, 50)
	writeRows(t, path, 20, nil)
	if _, err := Upload(t.Context(), m, o); err == nil || !strings.Contains(err.Error(), "Mismatch between data file and progress database") {
		t.Fatalf("shorter input: %v", err)
	}
}

func TestUploadDryRunStoresNothing(t *testing.T) {
	dir := t.TempDir()
	writeRows(t, filepath.Join(dir, "rows.csv"), 30, map[int]bool{2: true})
	o := uploadOpts(t, dir, noKeyConfig)
	o.DryRun = true
	sum, err := Upload(t.Context(), nil, o)
	if err != nil || sum.Loaded != 29 || sum.Failed != 1 {
		t.Fatalf("dry run: %+v, %v", sum, err)
	}
	if _, err := os.Stat(o.DBFilename); !os.IsNotExist(err) {
		t.Errorf("dry run wrote a progress database: %v", err)
	}
}

// A dump restores to equal entities, and a download never overwrites.
func TestDumpRestoreAndDownload(t *testing.T) {
	dir := t.TempDir()
	src := newMemStore()
	key := func(kind, name string) *backend.Key {
		return &backend.Key{Path: []backend.PathElement{{Kind: "Parent", ID: 1}, {Kind: kind, Name: name}}}
	}
	_, err := src.PutEntities(t.Context(), "app", []backend.Entity{
		{Key: key("A", "x"), Properties: map[string]backend.Value{"v": {Type: backend.IntType, Int: 1}}},
		{Key: key("B", "y"), Properties: map[string]backend.Value{"k": {Type: backend.KeyType, Key: key("A", "x")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "dump.jsonl")
	o := Options{App: "app", Filename: out, BatchSize: 1, NumThreads: 2}
	sum, err := Download(t.Context(), src, o)
	if err != nil || sum.Loaded != 2 {
		t.Fatalf("dump: %+v, %v", sum, err)
	}
	if _, err := Download(t.Context(), src, o); err == nil || !strings.Contains(err.Error(), "output file exists") {
		t.Fatalf("second download: %v, want output file exists", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	dst := newMemStore()
	o.DBFilename = filepath.Join(dir, "restore.sql3")
	if sum, err := Upload(t.Context(), dst, o); err != nil || sum.Loaded != 2 {
		t.Fatalf("restore: %+v, %v", sum, err)
	}
	if !reflect.DeepEqual(src.ents, dst.ents) {
		t.Fatalf("restored %v\nwant %v", dst.ents, src.ents)
	}
}

// A load makes property maps for the batches in flight and then reuses
// them: a store taking groups of batches hands back several groups' maps at
// once, and none of them may be dropped and made again.
func TestUploadReusesPropertyMaps(t *testing.T) {
	dir := t.TempDir()
	const rows = 2000
	writeRows(t, filepath.Join(dir, "rows.csv"), rows, nil)
	o := uploadOpts(t, dir, noKeyConfig)
	m := newMemStore()
	seen := map[uintptr]bool{}
	m.before = func(_ int, ents []backend.Entity) error {
		m.mu.Lock()
		for _, e := range ents {
			seen[reflect.ValueOf(e.Properties).Pointer()] = true
		}
		m.mu.Unlock()
		// Slower than the conversions (which record each batch in the
		// progress database: tens of milliseconds under the race
		// detector), so batches queue and are stored in groups,
		// several groups waiting at once.
		time.Sleep(50 * time.Millisecond)
		return nil
	}
	if _, err := Upload(t.Context(), batchStore{m}, o); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, m, rows)
	if m.maxBatch < 2 {
		t.Fatalf("the store was never given a group of batches (at most %d at once): the test proves nothing", m.maxBatch)
	}
	// Every batch read and not yet stored holds its own maps; the next
	// ones reuse them.
	if most := inFlightBatches(o.NumThreads) * o.BatchSize; len(seen) > most {
		t.Errorf("the load made %d property maps for %d rows, want at most %d (one per record of the batches in flight)", len(seen), rows, most)
	}
}

// encodingStore is a batchStore that is a backend.EntityEncoder: its
// "encoding" is a copy of each entity, and it counts what it encoded,
// stored and was handed back.
type encodingStore struct {
	batchStore
	encoded, released int
	maps              map[uintptr]bool // the property maps it encoded
}

type copiedBatch struct {
	s        *encodingStore
	ents     []backend.Entity
	released bool
}

func (c *copiedBatch) Len() int { return len(c.ents) }

func (c *copiedBatch) Release() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.released {
		panic("an encoded batch was released twice")
	}
	c.released = true
	c.s.released++
}

func (c *copiedBatch) Append(ents []backend.Entity) error {
	if len(c.ents)+len(ents) > backend.MaxEntityBatch {
		return fmt.Errorf("%d entities in one encoded batch", len(c.ents)+len(ents))
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.released {
		return errors.New("appending to a released batch")
	}
	c.ents = append(c.ents, c.s.copy(ents)...)
	return nil
}

// copy copies ents as the store's encoding, noting their maps (s.mu held).
func (s *encodingStore) copy(ents []backend.Entity) []backend.Entity {
	out := make([]backend.Entity, len(ents))
	for i, e := range ents {
		s.maps[reflect.ValueOf(e.Properties).Pointer()] = true
		e.Properties = maps.Clone(e.Properties)
		out[i] = e
	}
	return out
}

func (s *encodingStore) PutCheckedEntityBatches(ctx context.Context, app string, batches [][]backend.Entity) ([][]backend.Key, error) {
	return nil, errors.New("PutCheckedEntityBatches called on a store that encodes")
}

func (s *encodingStore) EncodeEntities(ents []backend.Entity) (backend.EncodedEntities, error) {
	if len(ents) > backend.MaxEntityBatch {
		return nil, fmt.Errorf("%d entities in one encoded batch", len(ents))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &copiedBatch{s: s, ents: s.copy(ents)}
	s.encoded++
	return c, nil
}

func (s *encodingStore) PutEncodedEntityBatches(ctx context.Context, app string, batches []backend.EncodedEntities) ([][]backend.Key, error) {
	var all []backend.Entity
	for _, b := range batches {
		c := b.(*copiedBatch)
		if c.released {
			return nil, errors.New("a released batch was stored")
		}
		all = append(all, c.ents...)
	}
	s.mu.Lock()
	s.maxBatch = max(s.maxBatch, len(batches))
	s.mu.Unlock()
	if _, err := s.putAny(ctx, app, all); err != nil {
		return nil, err
	}
	return make([][]backend.Key, len(batches)), nil
}

// A store that encodes batches itself gets each batch encoded by the
// goroutine that converted it, and the batch's property maps go back to the
// converters at once: however slow the store, the load fills the maps of
// the batches being converted, not one set per batch in flight. A failed
// put is retried with the same encoded batches, each handed back once,
// after it is stored.
func TestUploadEncodesBeforeStoring(t *testing.T) {
	dir := t.TempDir()
	const rows = 2100
	writeRows(t, filepath.Join(dir, "rows.csv"), rows, nil)
	o := uploadOpts(t, dir, noKeyConfig)
	s := &encodingStore{batchStore: batchStore{newMemStore()}, maps: map[uintptr]bool{}}
	s.before = func(call int, _ []backend.Entity) error {
		if call == 2 {
			return errors.New("transient failure")
		}
		time.Sleep(50 * time.Millisecond) // slower than converting: batches queue
		return nil
	}
	if _, err := Upload(t.Context(), s, o); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, s.memStore, rows)
	batches := rows / o.BatchSize
	if s.encoded != batches || s.released != batches {
		t.Errorf("%d batches encoded and %d released, want %d each", s.encoded, s.released, batches)
	}
	if s.maxBatch < 2 {
		t.Fatalf("the store was never given a group of batches (at most %d at once): the test proves nothing", s.maxBatch)
	}
	// Each converter holds one batch's maps, and a few sets wait between
	// them; never one set per batch read.
	if most := (o.NumThreads + 2) * o.BatchSize; len(s.maps) > most {
		t.Errorf("the load made %d property maps for %d rows, want at most %d (the batches being converted)", len(s.maps), rows, most)
	}
}

// keyedConfig is noKeyConfig with each row's key made of its n.
const keyedConfig = `transformers:
- kind: Row
  connector: csv
  property_map:
  - property: __key__
    external_name: n
    import_transform: transform.create_foreign_key('Row', key_is_id=True)
  - property: n
    external_name: n
    import_transform: int
  - property: label
    external_name: label
`

// A store that encodes gets each batch encoded a chunk of entities at a
// time, right after they are converted, so a converter fills the same few
// property maps again and again (they stay in its core's caches) instead
// of a whole batch's: before, every converter filled 500 maps per batch,
// about as many maps as rows in this load. A batch is still one encoded
// batch of up to MaxEntityBatch, holding every row in order.
func TestUploadEncodesInChunks(t *testing.T) {
	dir := t.TempDir()
	const rows = 2100
	writeRows(t, filepath.Join(dir, "rows.csv"), rows, map[int]bool{777: true})
	o := uploadOpts(t, dir, keyedConfig)
	o.BatchSize = 600 // two encoded batches each: 500, then 100
	s := &encodingStore{batchStore: batchStore{newMemStore()}, maps: map[uintptr]bool{}}
	sum, err := Upload(t.Context(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != rows-1 || sum.Failed != 1 {
		t.Fatalf("loaded %d, failed %d; want %d and 1", sum.Loaded, sum.Failed, rows-1)
	}
	if len(s.ents) != rows-1 {
		t.Fatalf("the store holds %d entities, want %d", len(s.ents), rows-1)
	}
	for _, e := range s.ents {
		if e.Key.Path[0].ID != e.Properties["n"].Int {
			t.Fatalf("entity %v holds n %d", e.Key, e.Properties["n"].Int)
		}
	}
	// Three batches of 600 (each encoded as 500 and 100), then one of 300.
	if want := 2*(rows/o.BatchSize) + 1; s.encoded != want || s.released != want {
		t.Errorf("%d batches encoded and %d released, want %d each", s.encoded, s.released, want)
	}
	if most := o.NumThreads * 64; len(s.maps) > most {
		t.Errorf("the load made %d property maps for %d rows, want at most %d (a few per converter)", len(s.maps), rows, most)
	}
}

// A run killed after a batch's entities were stored, but before the
// recorder wrote that the batch was read (records lag what happened), left
// the ids it allocated for the batch's keyless rows in allocated_ids and
// no progress row for it. The rerun must store those rows under the same
// ids again, not under new ones beside the stored copies.
func TestUploadReusesIDsOfUnrecordedBatches(t *testing.T) {
	const rows = 60
	o, m := rowsUpload(t, rows, noKeyConfig)
	if _, err := Upload(t.Context(), m, o); err != nil {
		t.Fatal(err)
	}
	forgetProgress(t, o, rows)
	sum, err := Upload(t.Context(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != rows {
		t.Errorf("rerun loaded %d, want %d", sum.Loaded, rows)
	}
	checkExactlyOnce(t, m, rows)
}

// A run killed after it recorded a batch's allocated ids but before it
// sent the batch (and before the recorder wrote it read) left the ids and
// nothing else: the rerun sends the rows under those ids, allocating
// none (the store here would hand out others).
func TestUploadReusesIDsOfUnsentBatches(t *testing.T) {
	const rows = 60
	o, m := rowsUpload(t, rows, noKeyConfig)
	if _, err := Upload(t.Context(), m, o); err != nil {
		t.Fatal(err)
	}
	ids := forgetProgress(t, o, rows)
	unsent := newMemStore()
	unsent.nextID = 1 << 20
	sum, err := Upload(t.Context(), unsent, o)
	if err != nil || sum.Loaded != rows {
		t.Fatalf("rerun: %+v, %v; want %d loaded", sum, err, rows)
	}
	checkExactlyOnce(t, unsent, rows)
	if unsent.allocs != 0 {
		t.Errorf("the rerun allocated ids %d times, want none", unsent.allocs)
	}
	for _, e := range unsent.ents {
		if id := e.Key.Path[len(e.Key.Path)-1].ID; !ids[id] {
			t.Errorf("row %d stored under id %d, not one recorded for it", e.Properties["n"].Int, id)
		}
	}
}

// forgetProgress deletes the progress rows of o's progress database, what
// a kill lost of the records (they lag), and returns the allocated ids it
// holds, checking there is one for each of rows.
func forgetProgress(t *testing.T, o Options, rows int) map[int64]bool {
	t.Helper()
	db, err := sql.Open("sqlite", o.DBFilename)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `DELETE FROM progress`); err != nil {
		t.Fatal(err)
	}
	r, err := db.QueryContext(t.Context(), `SELECT id FROM allocated_ids`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids := map[int64]bool{}
	for r.Next() {
		var id int64
		if err := r.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	if err := r.Err(); err != nil || len(ids) != rows {
		t.Fatalf("allocated_ids holds %d ids (%v), want %d", len(ids), err, rows)
	}
	return ids
}
