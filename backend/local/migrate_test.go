package local

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

// A store written before entity keys became one blob (schema version 3)
// opens with its entities intact: queried in key order, page by page, in
// each namespace, with their kinds listed and an index built over them.
func TestEntitiesMigrateFromV3(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, dbName)))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:3] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatal(err)
		}
	}
	var want []backend.Entity
	add := func(appID int64, ns, kind string, id int64) backend.Entity {
		e := backend.Entity{
			Key:        &backend.Key{Namespace: ns, Path: []backend.PathElement{{Kind: "Parent", Name: "p\x00"}, {Kind: kind, ID: id}}},
			Properties: map[string]backend.Value{"n": {Type: backend.IntType, Int: id}},
		}
		if _, err := db.Exec(`INSERT INTO entities (app_id, namespace, kind, key, data) VALUES (?, ?, ?, ?, ?)`,
			appID, ns, kind, keyOrder(*e.Key), encodeEntity(nil, e)); err != nil {
			t.Fatal(err)
		}
		return e
	}
	if _, err := db.Exec(`INSERT INTO apps (id, name) VALUES (1, 'app'), (300, 'other'); INSERT INTO entity_ids VALUES (1, 42)`); err != nil {
		t.Fatal(err)
	}
	for id := int64(25); id >= 1; id-- { // stored out of order
		e := add(1, "", "K\x00", id)
		want = append([]backend.Entity{e}, want...)
	}
	add(1, "ns", "K\x00", 7)
	add(1, "", "K", 1)
	add(300, "", "K\x00", 1)
	if _, err := db.Exec(`PRAGMA user_version = 3`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	b := openAt(t, dir)
	var got []backend.Entity
	cursor := ""
	for range 10 {
		page, next, err := b.QueryEntities(t.Context(), "app", backend.EntityQuery{Kind: "K\x00"}, cursor, 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("migrated query returned %d entities, want %d:\n%v", len(got), len(want), got)
	}
	for _, c := range []struct {
		app, ns string
		want    []string
	}{{"app", "", []string{"K", "K\x00"}}, {"app", "ns", []string{"K\x00"}}, {"other", "", []string{"K\x00"}}} {
		kinds, err := b.Kinds(t.Context(), c.app, c.ns)
		if err != nil || !reflect.DeepEqual(kinds, c.want) {
			t.Errorf("Kinds(%s, %q) = %q, %v; want %q", c.app, c.ns, kinds, err, c.want)
		}
	}
	// The id allocator survived: an incomplete key gets 42.
	keys, err := b.PutEntities(t.Context(), "app", []backend.Entity{{Key: &backend.Key{Path: []backend.PathElement{{Kind: "K"}}}}})
	if err != nil || keys[0].Path[0].ID != 42 {
		t.Fatalf("allocated %v, %v; want id 42", keys, err)
	}
	var n int
	if err := b.db.QueryRow(`SELECT count(*) FROM entities`).Scan(&n); err != nil || n != 29 {
		t.Fatalf("the store holds %d entities (%v), want 29", n, err)
	}
}
