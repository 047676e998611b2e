package local

import (
	"context"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func TestIndexEntries(t *testing.T) {
	byTagDate := backend.IndexDef{Kind: "Post", Properties: []backend.IndexProperty{
		{Name: "tag", Direction: "asc"}, {Name: "date", Direction: "desc"}}}
	ancestorByDate := backend.IndexDef{Kind: "Post", Ancestor: true, Properties: []backend.IndexProperty{
		{Name: "date", Direction: "desc"}}}
	byKeyDesc := backend.IndexDef{Kind: "Post", Properties: []backend.IndexProperty{{Name: "__key__", Direction: "desc"}}}
	str := func(s string) backend.Value { return backend.Value{Type: backend.StringType, String: s} }
	list := func(n int) backend.Value {
		v := backend.Value{Type: backend.ArrayType}
		for i := range n {
			v.Array = append(v.Array, backend.Value{Type: backend.IntType, Int: int64(i)})
		}
		return v
	}
	key := &backend.Key{Path: []backend.PathElement{{Kind: "Blog", Name: "b"}, {Kind: "Post", ID: 7}}}
	date := backend.Value{Type: backend.IntType, Int: 1}
	tests := []struct {
		name    string
		def     backend.IndexDef
		props   map[string]backend.Value
		want    int
		wantErr string
	}{
		{"one value each", byTagDate, map[string]backend.Value{"tag": str("go"), "date": date}, 1, ""},
		{"list multiplies", byTagDate, map[string]backend.Value{"tag": list(3), "date": list(4)}, 12, ""},
		{"missing property: not indexed", byTagDate, map[string]backend.Value{"tag": str("go")}, 0, ""},
		{"excluded value: not indexed", byTagDate, map[string]backend.Value{"tag": {Type: backend.StringType, String: "x", ExcludeFromIndexes: true}, "date": date}, 0, ""},
		{"empty list: not indexed", byTagDate, map[string]backend.Value{"tag": list(0), "date": date}, 0, ""},
		{"ancestor index: one per ancestor", ancestorByDate, map[string]backend.Value{"date": date}, 2, ""},
		{"key property", byKeyDesc, nil, 1, ""},
		{"exploding index", byTagDate, map[string]backend.Value{"tag": list(200), "date": list(101)}, 0, "more than 20000 entries"},
		{"string too long", byTagDate, map[string]backend.Value{"tag": str(strings.Repeat("x", 1501)), "date": date}, 0, "1501 bytes long"},
		{"string at the limit", byTagDate, map[string]backend.Value{"tag": str(strings.Repeat("x", 1500)), "date": date}, 1, ""},
		{"embedded entity", byTagDate, map[string]backend.Value{"tag": {Type: backend.EntityType, Entity: &backend.Entity{}}, "date": date}, 0, "embedded entity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := indexEntries(tt.def, backend.Entity{Key: key, Properties: tt.props})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("indexEntries = %d, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("indexEntries = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

// TestIndexStatesAcrossProcesses checks that the state lives in the store:
// an index created through one Backend is built by the next call through
// another on the same directory, as a second appcfg process would see it.
func TestIndexStatesAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	first, second := openAt(t, dir), openAt(t, dir)
	def := backend.IndexDef{Kind: "Greeting", Properties: []backend.IndexProperty{
		{Name: "author", Direction: "asc"}, {Name: "date", Direction: "desc"}}}
	created, err := first.CreateIndexes(t.Context(), "app", []backend.IndexDef{def})
	if err != nil {
		t.Fatal(err)
	}
	if created[0].State != backend.IndexBuilding {
		t.Fatalf("a new index is %s, want BUILDING", created[0].State)
	}
	list, err := second.ListIndexes(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != created[0].ID || list[0].State != backend.IndexServing {
		t.Fatalf("after one poll from another process: %+v, want %s SERVING", list, created[0].ID)
	}
	again, err := first.CreateIndexes(t.Context(), "app", []backend.IndexDef{def})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].State != backend.IndexServing {
		t.Fatalf("creating a built index again gives %s, want it left SERVING", again[0].State)
	}
}

func TestCreateIndexesRefusesBadDefinitions(t *testing.T) {
	b := openAt(t, t.TempDir())
	for _, def := range []backend.IndexDef{
		{Properties: []backend.IndexProperty{{Name: "a", Direction: "asc"}}},
		{Kind: "K", Properties: []backend.IndexProperty{{Direction: "asc"}}},
		{Kind: "K", Properties: []backend.IndexProperty{{Name: "a", Direction: "sideways"}}},
	} {
		if _, err := b.CreateIndexes(t.Context(), "app", []backend.IndexDef{def}); err == nil {
			t.Errorf("CreateIndexes(%+v) succeeded, want an error", def)
		}
	}
	if list, err := b.ListIndexes(t.Context(), "app"); err != nil || len(list) != 0 {
		t.Fatalf("after refused definitions: %v, %v; want no index", list, err)
	}
}

// TestIndexBuildsOverEntities: an index is built over the stored entities of
// its kind, and fails as on Datastore when one of them cannot be indexed.
func TestIndexBuildsOverEntities(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	post := func(id int64, tags int, title string) backend.Entity {
		e := backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Post", ID: id}}},
			Properties: map[string]backend.Value{"title": {Type: backend.StringType, String: title}}}
		arr := backend.Value{Type: backend.ArrayType}
		for i := range tags {
			arr.Array = append(arr.Array, backend.Value{Type: backend.IntType, Int: int64(i)})
		}
		e.Properties["tag"] = arr
		return e
	}
	if _, err := b.PutEntities(ctx, "app", []backend.Entity{post(1, 3, "short"), post(2, 150, "fine")}); err != nil {
		t.Fatal(err)
	}
	// Entities of another kind do not count. Indexed strings over 1500
	// bytes are refused now; stores written by an older appcfg hold them.
	other := backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Note", ID: 1}}},
		Properties: map[string]backend.Value{"title": {Type: backend.StringType, String: strings.Repeat("x", 2000)}}}
	if err := putUnchecked(ctx, b, "app", other); err != nil {
		t.Fatal(err)
	}
	byTagTitle := backend.IndexDef{Kind: "Post", Properties: []backend.IndexProperty{{Name: "tag", Direction: "asc"}, {Name: "title", Direction: "asc"}}}
	byTagTag := backend.IndexDef{Kind: "Post", Properties: []backend.IndexProperty{{Name: "tag", Direction: "asc"}, {Name: "tag", Direction: "desc"}}}
	if _, err := b.CreateIndexes(ctx, "app", []backend.IndexDef{byTagTitle, byTagTag}); err != nil {
		t.Fatal(err)
	}
	states := func() map[string]backend.IndexState {
		list, err := b.ListIndexes(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]backend.IndexState{}
		for _, ix := range list {
			m[ix.Def.Properties[1].Direction] = ix.State
		}
		return m
	}
	// 150 tags index 150 entries on (tag, title), but 150*150 = 22500 on
	// (tag, tag): more than an entity may have.
	if got := states(); got["asc"] != backend.IndexServing || got["desc"] != backend.IndexError {
		t.Fatalf("states after the build: %v, want (tag, title) SERVING and the exploding (tag, tag) ERROR", got)
	}
	// A title too long to index fails a new index on it.
	if err := putUnchecked(ctx, b, "app", post(3, 1, strings.Repeat("y", 1501))); err != nil {
		t.Fatal(err)
	}
	byTitle := backend.IndexDef{Kind: "Post", Ancestor: true, Properties: []backend.IndexProperty{{Name: "title", Direction: "desc"}}}
	created, err := b.CreateIndexes(ctx, "app", []backend.IndexDef{byTitle})
	if err != nil {
		t.Fatal(err)
	}
	list, err := b.ListIndexes(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range list {
		if ix.ID == created[0].ID && ix.State != backend.IndexError {
			t.Fatalf("an index over a 1501-byte title is %s, want ERROR", ix.State)
		}
	}
}

// putUnchecked stores entities past Datastore's limits, as an older appcfg
// did before PutEntities checked them.
func putUnchecked(ctx context.Context, b *Backend, app string, ents ...backend.Entity) error {
	p := b.entities.prepared.get(len(ents))
	p.prepare(ents)
	_, err := b.entities.write(ctx, b, app, [][]entityRow{p.rows})
	return err
}
