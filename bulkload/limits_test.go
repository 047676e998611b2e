package bulkload

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

// textConfig loads a key name, an indexed title and an unindexed body.
const textConfig = `python_preamble:
- import: google.appengine.ext.bulkload.transform
- import: google.appengine.ext.db
transformers:
- kind: Doc
  connector: csv
  property_map:
  - property: __key__
    external_name: name
  - property: title
    external_name: title
  - property: body
    external_name: body
    import_transform: db.Text
`

// Datastore's limits are checked per record, before anything is sent, on
// every backend (the memStore here checks nothing): an entity over
// 1,048,572 bytes and an indexed string over 1,500 bytes are errors of
// their records, named by line and record; the other records load.
func TestUploadEnforcesDatastoreLimitsPerRecord(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("name,title,body\n")
	fmt.Fprintf(&b, "ok1,short,small\n")
	fmt.Fprintf(&b, "big,short,%s\n", strings.Repeat("b", 2<<20)) // record 2: a 2 MiB entity
	fmt.Fprintf(&b, "long,%s,small\n", strings.Repeat("t", 1501)) // record 3
	fmt.Fprintf(&b, "edge,%s,%s\n", strings.Repeat("t", 1500), strings.Repeat("b", 1_000_000))
	fmt.Fprintf(&b, "__res__,short,small\n") // record 5: a reserved key name
	if err := os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	o := uploadOpts(t, dir, textConfig)
	m := newMemStore()
	sum, err := Upload(t.Context(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 2 || sum.Failed != 3 {
		t.Fatalf("summary %+v: want 2 loaded (ok1, edge) and 3 failed", sum)
	}
	sort.Slice(sum.Failures, func(i, j int) bool { return sum.Failures[i].Record < sum.Failures[j].Record })
	want := []struct {
		record, line int
		text         string
	}{
		{2, 3, "1048572 bytes"},
		{3, 4, `property "title": an indexed string is at most 1500 bytes`},
		{5, 6, "reserved"},
	}
	for i, w := range want {
		f := sum.Failures[i]
		if f.Record != w.record || f.Line != w.line || !strings.Contains(f.Err.Error(), w.text) {
			t.Errorf("failure %d = record %d line %d: %v; want record %d line %d containing %q", i, f.Record, f.Line, f.Err, w.record, w.line, w.text)
		}
	}
	if _, ok := m.ents["app|"+keyString(&backend.Key{Path: []backend.PathElement{{Kind: "Doc", Name: "edge"}}})]; !ok {
		t.Errorf("the entity just within the limits was not stored")
	}
}

// A dump's records are checked the same way: a reserved kind, a namespace
// outside [0-9A-Za-z._-]{0,100}, a negative id and a key with both id and
// name are each their record's error, reported at once: never sent, so
// never retried.
func TestRestoreRefusesInvalidKeysPerRecord(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		`{"key":{"path":[{"kind":"A","name":"ok"}]},"properties":{}}`,
		`{"key":{"path":[{"kind":"__kind__","name":"x"}]},"properties":{}}`,
		`{"key":{"namespace":"a b","path":[{"kind":"A","name":"x"}]},"properties":{}}`,
		`{"key":{"path":[{"kind":"A","id":-5}]},"properties":{}}`,
		`{"key":{"path":[{"kind":"A","id":3,"name":"x"}]},"properties":{}}`,
		`{"key":{"namespace":"` + strings.Repeat("n", 101) + `","path":[{"kind":"A","name":"x"}]},"properties":{}}`,
	}
	path := filepath.Join(dir, "dump.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newMemStore()
	o := Options{App: "app", Filename: path, BatchSize: 10, NumThreads: 2, DBFilename: "skip"}
	sum, err := Upload(t.Context(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 1 || sum.Failed != 5 {
		t.Fatalf("summary %+v, want 1 loaded and 5 failed", sum)
	}
	if m.puts != 1 {
		t.Errorf("%d puts, want 1: invalid records must not be sent (or retried)", m.puts)
	}
	sort.Slice(sum.Failures, func(i, j int) bool { return sum.Failures[i].Record < sum.Failures[j].Record })
	for i, w := range []string{"reserved", "namespace", "ids are positive", "both an id", "namespace"} {
		if f := sum.Failures[i]; f.Record != i+2 || !strings.Contains(f.Err.Error(), w) {
			t.Errorf("failure %d = record %d: %v; want record %d containing %q", i, f.Record, f.Err, i+2, w)
		}
	}
}

// A host's permanent refusal (ErrInvalidEntity) ends the run at once: it is
// not retried, and the error does not promise that a rerun resumes.
func TestPermanentRefusalIsNotRetried(t *testing.T) {
	dir := t.TempDir()
	writeRows(t, filepath.Join(dir, "rows.csv"), 5, nil)
	o := uploadOpts(t, dir, noKeyConfig)
	o.NumThreads = 1
	m := newMemStore()
	m.before = func(int, []backend.Entity) error {
		return fmt.Errorf("datastore commit: 400 INVALID_ARGUMENT: bad key (%w)", backend.ErrInvalidEntity)
	}
	_, err := Upload(t.Context(), m, o)
	if err == nil || !strings.Contains(err.Error(), "refused them for good") || strings.Contains(err.Error(), "resume") {
		t.Fatalf("run against a host refusing the entities: %v", err)
	}
	if m.puts != 1 {
		t.Errorf("%d puts, want 1: a permanent refusal must not be retried", m.puts)
	}
}

// Rows without a __key__ get numeric ids the datastore allocates, as the
// legacy bulkloader let it (not names made up by the loader), and a dump's
// incomplete keys too.
func TestRowsWithoutKeyGetAllocatedIDs(t *testing.T) {
	dir := t.TempDir()
	writeRows(t, filepath.Join(dir, "rows.csv"), 30, nil)
	o := uploadOpts(t, dir, noKeyConfig)
	m := newMemStore()
	if _, err := Upload(t.Context(), m, o); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(dir, "dump.jsonl")
	if err := os.WriteFile(dump, []byte(`{"key":{"path":[{"kind":"P","name":"p"},{"kind":"Row"}]},"properties":{"n":{"type":"integer","int":31}}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Upload(t.Context(), m, Options{App: "app", Filename: dump, BatchSize: 5, NumThreads: 1, DBFilename: "skip"}); err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, e := range m.ents {
		last := e.Key.Path[len(e.Key.Path)-1]
		if last.Name != "" || last.ID <= 0 || ids[last.ID] {
			t.Fatalf("key %s: want a fresh allocated numeric id", keyString(e.Key))
		}
		ids[last.ID] = true
	}
	if len(ids) != 31 || m.allocs == 0 {
		t.Fatalf("%d entities with ids, %d allocations; want 31 entities with allocated ids", len(ids), m.allocs)
	}
}
