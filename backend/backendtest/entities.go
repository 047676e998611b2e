package backendtest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// entityTests check the Entities capability: every value type round-trips,
// namespaces and kinds stay apart, ancestors are kept, incomplete keys get
// distinct ids, upserts are idempotent and queries page with cursors in key
// order.
func (s suite) entityTests() []subtest {
	return []subtest{
		{"RoundTripEveryType", s.entityRoundTrip},
		{"IncompleteKeysGetDistinctIDs", s.entityAllocate},
		{"UpsertIsIdempotent", s.entityUpsert},
		{"NamespacesAndKindsApart", s.entityNamespaces},
		{"CursorPagesInKeyOrder", s.entityCursor},
		{"BatchLimit", s.entityBatchLimit},
		{"SeveralBatchesAtOnce", s.entityBatches},
		{"DatastoreLimits", s.entityLimits},
		{"AllocatedIDsAreFresh", s.entityAllocateIDs},
	}
}

func nameKey(ns, kind, name string) *backend.Key {
	return &backend.Key{Namespace: ns, Path: []backend.PathElement{{Kind: kind, Name: name}}}
}

// everyType is an entity holding each value type, with values every host
// keeps exactly (timestamps in microseconds, as Datastore stores them).
func everyType(key *backend.Key) backend.Entity {
	ref := &backend.Key{Namespace: key.Namespace, Path: []backend.PathElement{{Kind: "Parent", Name: "p"}, {Kind: "Child", ID: 42}}}
	return backend.Entity{Key: key, Properties: map[string]backend.Value{
		"null":    {Type: backend.NullType},
		"bool":    {Type: backend.BoolType, Bool: true},
		"int":     {Type: backend.IntType, Int: -1 << 62},
		"double":  {Type: backend.DoubleType, Double: 2.5e-300},
		"time":    {Type: backend.TimestampType, Time: time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)},
		"key":     {Type: backend.KeyType, Key: ref},
		"string":  {Type: backend.StringType, String: "héllo\x00wörld"},
		"text":    {Type: backend.StringType, String: "long text", ExcludeFromIndexes: true},
		"blob":    {Type: backend.BlobType, Blob: []byte{0, 1, 2, 255}, ExcludeFromIndexes: true},
		"geo":     {Type: backend.GeoPointType, GeoPoint: backend.GeoPoint{Lat: 52.5, Lng: -13.25}},
		"array":   {Type: backend.ArrayType, Array: []backend.Value{{Type: backend.IntType, Int: 1}, {Type: backend.StringType, String: "two"}}},
		"entity":  {Type: backend.EntityType, Entity: &backend.Entity{Properties: map[string]backend.Value{"inner": {Type: backend.StringType, String: "x"}}}},
		"false":   {Type: backend.BoolType},
		"zeroInt": {Type: backend.IntType},
	}}
}

func (s suite) entityRoundTrip(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	app := newApp(t)
	parent := backend.PathElement{Kind: "Parent", Name: "root"}
	key := &backend.Key{Path: []backend.PathElement{parent, {Kind: "Typed", Name: "all"}}}
	want := everyType(key)
	keys, err := es.PutEntities(t.Context(), app, []backend.Entity{want})
	must(t, "PutEntities", err)
	if len(keys) != 1 || !reflect.DeepEqual(keys[0], *key) {
		t.Fatalf("PutEntities keys = %+v, want [%+v]", keys, *key)
	}
	got, cursor, err := es.QueryEntities(t.Context(), app, backend.EntityQuery{Kind: "Typed"}, "", 10)
	must(t, "QueryEntities", err)
	if cursor != "" || len(got) != 1 {
		t.Fatalf("QueryEntities = %d entities, cursor %q; want 1, \"\"", len(got), cursor)
	}
	if !reflect.DeepEqual(got[0].Key, want.Key) {
		t.Errorf("key = %+v, want %+v (ancestor path kept)", got[0].Key, want.Key)
	}
	for name, w := range want.Properties {
		g, ok := got[0].Properties[name]
		if !ok {
			t.Errorf("property %s lost", name)
			continue
		}
		if !g.Time.Equal(w.Time) {
			t.Errorf("property %s time = %v, want %v", name, g.Time, w.Time)
		}
		g.Time, w.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("property %s = %+v, want %+v", name, g, w)
		}
	}
	if len(got[0].Properties) != len(want.Properties) {
		t.Errorf("got %d properties, want %d", len(got[0].Properties), len(want.Properties))
	}
}

func (s suite) entityAllocate(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	app := newApp(t)
	// A complete key with a large id first: allocated ids must not reuse it.
	_, err := es.PutEntities(t.Context(), app, []backend.Entity{{
		Key: &backend.Key{Path: []backend.PathElement{{Kind: "Auto", ID: 7}}}, Properties: map[string]backend.Value{"n": {Type: backend.IntType, Int: -1}},
	}})
	must(t, "PutEntities(id 7)", err)
	seen := map[int64]bool{7: true}
	for round := range 3 {
		batch := make([]backend.Entity, 20)
		for i := range batch {
			batch[i] = backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Auto"}}},
				Properties: map[string]backend.Value{"n": {Type: backend.IntType, Int: int64(round*100 + i)}}}
		}
		keys, err := es.PutEntities(t.Context(), app, batch)
		must(t, "PutEntities(incomplete)", err)
		if len(keys) != len(batch) {
			t.Fatalf("got %d keys for %d entities", len(keys), len(batch))
		}
		for _, k := range keys {
			id := k.Path[len(k.Path)-1].ID
			if id <= 0 || seen[id] {
				t.Fatalf("allocated id %d is not positive or was used before", id)
			}
			seen[id] = true
		}
	}
	if n := countKind(t, es, app, "", "Auto"); n != 61 {
		t.Fatalf("stored %d entities, want 61", n)
	}
}

func (s suite) entityUpsert(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	app := newApp(t)
	for i := range 3 {
		_, err := es.PutEntities(t.Context(), app, []backend.Entity{{Key: nameKey("", "Up", "one"),
			Properties: map[string]backend.Value{"v": {Type: backend.IntType, Int: int64(i)}}}})
		must(t, "PutEntities", err)
	}
	got, _, err := es.QueryEntities(t.Context(), app, backend.EntityQuery{Kind: "Up"}, "", 10)
	must(t, "QueryEntities", err)
	if len(got) != 1 || got[0].Properties["v"].Int != 2 {
		t.Fatalf("after 3 puts of one key: %+v, want one entity with v=2", got)
	}
}

func (s suite) entityNamespaces(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	app := newApp(t)
	_, err := es.PutEntities(t.Context(), app, []backend.Entity{
		{Key: nameKey("", "A", "x"), Properties: map[string]backend.Value{}},
		{Key: nameKey("ns1", "A", "x"), Properties: map[string]backend.Value{}},
		{Key: nameKey("ns1", "B", "x"), Properties: map[string]backend.Value{}},
	})
	must(t, "PutEntities", err)
	if n := countKind(t, es, app, "", "A"); n != 1 {
		t.Errorf("default namespace kind A: %d entities, want 1", n)
	}
	if n := countKind(t, es, app, "ns1", "A"); n != 1 {
		t.Errorf("ns1 kind A: %d entities, want 1", n)
	}
	kinds, err := es.Kinds(t.Context(), app, "ns1")
	must(t, "Kinds", err)
	if !equalStrings(kinds, []string{"A", "B"}) {
		t.Errorf("Kinds(ns1) = %v, want [A B]", kinds)
	}
	kinds, err = es.Kinds(t.Context(), app, "")
	must(t, "Kinds", err)
	if !equalStrings(kinds, []string{"A"}) {
		t.Errorf("Kinds(\"\") = %v, want [A]", kinds)
	}
	got, _, err := es.QueryEntities(t.Context(), app, backend.EntityQuery{Namespace: "ns1", Kind: "A"}, "", 10)
	must(t, "QueryEntities", err)
	if len(got) != 1 || got[0].Key.Namespace != "ns1" {
		t.Errorf("ns1 query returned %+v, want one key in ns1", got)
	}
}

func (s suite) entityCursor(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	app := newApp(t)
	var batch []backend.Entity
	var want []string
	for i := 1; i <= 25; i++ {
		batch = append(batch, backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Page", ID: int64(i * 3)}}}, Properties: map[string]backend.Value{}})
		want = append(want, fmt.Sprintf("id:%d", i*3))
	}
	for _, n := range []string{"a", "b", "c"} {
		batch = append(batch, backend.Entity{Key: nameKey("", "Page", n), Properties: map[string]backend.Value{}})
		want = append(want, "name:"+n)
	}
	_, err := es.PutEntities(t.Context(), app, batch)
	must(t, "PutEntities", err)
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatal("more than 20 pages of 4 for 28 entities: the cursor does not advance")
		}
		ents, next, err := es.QueryEntities(t.Context(), app, backend.EntityQuery{Kind: "Page"}, cursor, 4)
		must(t, "QueryEntities", err)
		if len(ents) > 4 {
			t.Fatalf("page of %d entities for limit 4", len(ents))
		}
		for _, e := range ents {
			pe := e.Key.Path[0]
			if pe.Name != "" {
				got = append(got, "name:"+pe.Name)
			} else {
				got = append(got, fmt.Sprintf("id:%d", pe.ID))
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	// Datastore order: ids numerically, then names.
	if !equalStrings(got, want) {
		t.Fatalf("paged keys = %v\nwant %v", got, want)
	}
}

func (s suite) entityBatchLimit(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	app := newApp(t)
	batch := make([]backend.Entity, backend.MaxEntityBatch+1)
	for i := range batch {
		batch[i] = backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Big", ID: int64(i + 1)}}}, Properties: map[string]backend.Value{}}
	}
	if _, err := es.PutEntities(t.Context(), app, batch); err == nil {
		t.Fatalf("PutEntities of %d entities succeeded, want an error", len(batch))
	}
	_, err := es.PutEntities(t.Context(), app, batch[:backend.MaxEntityBatch])
	must(t, "PutEntities(500)", err)
	if n := countKind(t, es, app, "", "Big"); n != backend.MaxEntityBatch {
		t.Fatalf("stored %d, want %d", n, backend.MaxEntityBatch)
	}
}

// entityBatches: an EntityBatchPutter stores several batches in one call,
// each within the batch limit, and refuses the call, storing nothing, when
// one batch is too big.
func (s suite) entityBatches(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	bp, ok := es.(backend.EntityBatchPutter)
	if !ok {
		t.Skip("optional capability EntityBatchPutter not implemented")
	}
	app := newApp(t)
	batch := func(kind string, from, n int) []backend.Entity {
		out := make([]backend.Entity, n)
		for i := range out {
			out[i] = backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: kind, ID: int64(from + i)}}},
				Properties: map[string]backend.Value{"i": {Type: backend.IntType, Int: int64(from + i)}}}
		}
		return out
	}
	if _, err := bp.PutEntityBatches(t.Context(), app, [][]backend.Entity{batch("A", 1, 3), batch("A", 10, backend.MaxEntityBatch+1)}); err == nil {
		t.Fatal("PutEntityBatches with a batch over the limit succeeded")
	}
	if n := countKind(t, es, app, "", "A"); n != 0 {
		t.Fatalf("a refused call stored %d entities", n)
	}
	keys, err := bp.PutEntityBatches(t.Context(), app, [][]backend.Entity{batch("A", 1, backend.MaxEntityBatch), batch("A", 1001, 7), batch("B", 1, 2)})
	must(t, "PutEntityBatches", err)
	if len(keys) != 3 || len(keys[0]) != backend.MaxEntityBatch || len(keys[1]) != 7 || len(keys[2]) != 2 {
		t.Fatalf("keys per batch: %d batches", len(keys))
	}
	if a, b := countKind(t, es, app, "", "A"), countKind(t, es, app, "", "B"); a != backend.MaxEntityBatch+7 || b != 2 {
		t.Fatalf("stored %d of kind A and %d of B, want %d and 2", a, b, backend.MaxEntityBatch+7)
	}
}

func countKind(t *testing.T, es backend.Entities, app, ns, kind string) int {
	t.Helper()
	n, cursor := 0, ""
	for range 1000 {
		ents, next, err := es.QueryEntities(t.Context(), app, backend.EntityQuery{Namespace: ns, Kind: kind}, cursor, 100)
		must(t, "QueryEntities", err)
		n += len(ents)
		if next == "" {
			return n
		}
		cursor = next
	}
	t.Fatal("more than 1000 pages")
	return 0
}

// entityLimits: every backend refuses what Datastore refuses, with an error
// wrapping ErrInvalidEntity (permanent: callers do not retry it), and
// stores nothing of the call.
func (s suite) entityLimits(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	app := newApp(t)
	big := strings.Repeat("x", backend.MaxEntityBytes)
	for name, e := range map[string]backend.Entity{
		"entity over 1,048,572 bytes": {Key: nameKey("", "Lim", "a"), Properties: map[string]backend.Value{
			"p": {Type: backend.StringType, String: big, ExcludeFromIndexes: true}}},
		"indexed string over 1,500 bytes": {Key: nameKey("", "Lim", "a"), Properties: map[string]backend.Value{
			"p": {Type: backend.StringType, String: big[:1501]}}},
		"reserved kind":      {Key: nameKey("", "__kind__", "a"), Properties: map[string]backend.Value{}},
		"bad namespace":      {Key: nameKey("a b", "Lim", "a"), Properties: map[string]backend.Value{}},
		"key name not UTF-8": {Key: nameKey("", "Lim", "\xff"), Properties: map[string]backend.Value{}},
		"negative id":        {Key: &backend.Key{Path: []backend.PathElement{{Kind: "Lim", ID: -2}}}, Properties: map[string]backend.Value{}},
		"both id and name":   {Key: &backend.Key{Path: []backend.PathElement{{Kind: "Lim", ID: 2, Name: "b"}}}, Properties: map[string]backend.Value{}},
		"reserved key name":  {Key: nameKey("", "Lim", "__x__"), Properties: map[string]backend.Value{}},
		"string not UTF-8":   {Key: nameKey("", "Lim", "a"), Properties: map[string]backend.Value{"p": {Type: backend.StringType, String: "\xfe"}}},
	} {
		ok := backend.Entity{Key: nameKey("", "Lim", "fine"), Properties: map[string]backend.Value{}}
		_, err := es.PutEntities(t.Context(), app, []backend.Entity{ok, e})
		if !errors.Is(err, backend.ErrInvalidEntity) {
			t.Errorf("%s: PutEntities = %v, want an error wrapping ErrInvalidEntity", name, err)
		}
	}
	if n := countKind(t, es, app, "", "Lim"); n != 0 {
		t.Errorf("%d entities stored by refused calls, want 0", n)
	}
}

// entityAllocateIDs: an IDAllocator hands out ids no stored entity has and
// that it never hands out again, storing under them is idempotent, and
// keys stored later with incomplete keys do not reuse them.
func (s suite) entityAllocateIDs(t *testing.T) {
	b := s.open(t)
	es := capability[backend.Entities](t, b, "entities")
	al, ok := es.(backend.IDAllocator)
	if !ok {
		t.Skip("optional capability IDAllocator not implemented")
	}
	app := newApp(t)
	_, err := es.PutEntities(t.Context(), app, []backend.Entity{{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Al", ID: 9}}}, Properties: map[string]backend.Value{}}})
	must(t, "PutEntities(id 9)", err)
	tmpl := backend.Key{Path: []backend.PathElement{{Kind: "Al"}}}
	seen := map[int64]bool{9: true}
	var ents []backend.Entity
	for range 2 {
		keys, err := al.AllocateIDs(t.Context(), app, tmpl, 5)
		must(t, "AllocateIDs", err)
		if len(keys) != 5 {
			t.Fatalf("AllocateIDs(5) gave %d keys", len(keys))
		}
		for _, k := range keys {
			id := k.Path[len(k.Path)-1].ID
			if id <= 0 || seen[id] || k.Path[0].Kind != "Al" {
				t.Fatalf("allocated key %+v: id not fresh", k)
			}
			seen[id] = true
			ents = append(ents, backend.Entity{Key: &k, Properties: map[string]backend.Value{}})
		}
	}
	for range 2 { // storing twice under allocated ids stores once
		_, err = es.PutEntities(t.Context(), app, ents)
		must(t, "PutEntities(allocated)", err)
	}
	keys, err := es.PutEntities(t.Context(), app, []backend.Entity{{Key: &tmpl, Properties: map[string]backend.Value{}}})
	must(t, "PutEntities(incomplete)", err)
	if id := keys[0].Path[0].ID; seen[id] {
		t.Fatalf("an incomplete key got the allocated id %d", id)
	}
	if n := countKind(t, es, app, "", "Al"); n != 12 {
		t.Fatalf("stored %d entities, want 12", n)
	}
}
