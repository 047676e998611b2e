package local

import (
	"database/sql"
	"io"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/backendtest"
)

// A store written before entity keys became one blob (schema version 3)
// opens with its entities intact: queried in key order, page by page, in
// each namespace, with their kinds listed and an index built over them.
func TestEntitiesMigrateFromV3(t *testing.T) {
	dir := t.TempDir()
	db := storeAtVersion(t, dir, 3)
	var want []backend.Entity
	add := func(appID int64, ns, kind string, id int64) backend.Entity {
		e := backend.Entity{
			Key:        &backend.Key{Namespace: ns, Path: []backend.PathElement{{Kind: "Parent", Name: "p\x00"}, {Kind: kind, ID: id}}},
			Properties: map[string]backend.Value{"n": {Type: backend.IntType, Int: id}},
		}
		if _, err := db.Exec(`INSERT INTO entities (app_id, namespace, kind, key, data) VALUES (?, ?, ?, ?, ?)`,
			appID, ns, kind, keyOrder(*e.Key), encodeEntityV1(nil, e)); err != nil {
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

// Request logs stored before chunks kept their lines (schema version 4)
// read back the same after the upgrade, formatted from their records.
func TestLogsMigrateFromV4(t *testing.T) {
	dir := t.TempDir()
	db := storeAtVersion(t, dir, 4)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var in []backend.RequestLog
	order := make([]int, 1500)
	for i := range order {
		order[i] = i
		in = append(in, backend.RequestLog{Time: t0.Add(time.Duration(i) * time.Second), IP: "192.0.2.9", Method: "GET",
			Resource: "/r", HTTPVersion: "HTTP/1.1", Status: 200, Service: "default", Version: "v1"})
	}
	if _, err := db.Exec(`INSERT INTO apps (id, name) VALUES (1, 'app'); INSERT INTO log_seq VALUES (1, 1500)`); err != nil {
		t.Fatal(err)
	}
	for _, c := range cutChunks("app", in, order, 0, nil) {
		if _, err := db.Exec(`INSERT INTO log_chunks (app_id, service, version, min_time, max_time, first_seq, count, data)
			VALUES (1, ?, ?, ?, ?, ?, ?, ?)`, c.service, c.version, c.minTime, c.maxTime, c.firstSeq, c.count, c.data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 4`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	b := openAt(t, dir)
	q := backend.LogQuery{App: "app", End: t0.Add(time.Hour)}
	var got []backend.RequestLog
	if err := b.ReadLogs(t.Context(), q, func(l backend.RequestLog) error { got = append(got, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) || !got[0].Time.Equal(in[0].Time) || !got[1499].Time.Equal(in[1499].Time) || got[7].IP != "192.0.2.9" {
		t.Fatalf("after the upgrade %d logs read back, want %d", len(got), len(in))
	}
	lines := 0
	if err := b.ReadLogLines(t.Context(), q, backendtest.LineFormat("migrate/1", ""), func(r io.Reader, n int) error {
		lines += n
		_, err := io.Copy(io.Discard, r)
		return err
	}); err != nil || lines != len(in) {
		t.Fatalf("ReadLogLines after the upgrade: %d lines, %v; want %d", lines, err, len(in))
	}
}

// storeAtVersion creates a store in dir with the schema of version v, as
// an appcfg of that time left it, and returns its database (the caller
// sets user_version once it has written its rows).
func storeAtVersion(t *testing.T, dir string, v int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, dbName), false))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:v] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatal(err)
		}
		if m.code == nil {
			continue
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := m.code(t.Context(), tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
