//go:build unix

package datastore

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/dsemulator"
)

// emulator is the package's one Datastore emulator: the first test that
// needs it starts it, the others share it under projects of their own
// (emulator.App), and TestMain stops it after the last test.
var emulator dsemulator.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.Stop()
	os.Exit(code)
}

// startEmulator returns the host:port of the package's Datastore emulator
// (the real one, in memory, strongly consistent, on a loopback port),
// started on first use. It skips the test when the emulator or Java is
// absent, and with -short.
func startEmulator(t *testing.T) string {
	t.Helper()
	return emulator.Host(t)
}

// openAt opens the backend at an emulator (or a proxy in front of one)
// through the factory, as appcfg does.
func openAt(t *testing.T, hostport string) *Backend {
	t.Helper()
	loc := "datastore://?endpoint=" + hostport
	b, err := NewFactory().Open(context.Background(), loc, "//?endpoint="+hostport, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.(*Backend)
}

// testRows returns n entities of kind Row with named keys (some under a
// parent, some in a namespace, as rows of a load are) and varied values.
func testRows(n int) []backend.Entity {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]backend.Entity, n)
	for i := range rows {
		key := &backend.Key{Path: []backend.PathElement{{Kind: "Row", Name: fmt.Sprintf("row-%05d", i)}}}
		if i%10 == 0 {
			key.Path = append([]backend.PathElement{{Kind: "Group", ID: int64(i/100 + 1)}}, key.Path...)
		}
		p := map[string]backend.Value{
			"n":     {Type: backend.IntType, Int: int64(i) * 1_000_000_007},
			"name":  {Type: backend.StringType, String: fmt.Sprintf("name %d, \"quoted\" é", i)},
			"ratio": {Type: backend.DoubleType, Double: float64(i) / 7},
			"even":  {Type: backend.BoolType, Bool: i%2 == 0},
			"when":  {Type: backend.TimestampType, Time: base.Add(time.Duration(i) * 1001 * time.Microsecond)},
		}
		if i%3 == 0 {
			p["note"] = backend.Value{Type: backend.NullType}
		}
		if i%7 == 0 {
			p["tags"] = backend.Value{Type: backend.ArrayType, Array: []backend.Value{{Type: backend.StringType, String: "a"}, {Type: backend.IntType, Int: int64(i)}}}
			p["raw"] = backend.Value{Type: backend.BlobType, Blob: []byte{byte(i), 0, 255}, ExcludeFromIndexes: true}
		}
		rows[i] = backend.Entity{Key: key, Properties: p}
	}
	return rows
}

// putAll stores ents in batches of MaxEntityBatch.
func putAll(ctx context.Context, es backend.Entities, app string, ents []backend.Entity) error {
	for start := 0; start < len(ents); start += backend.MaxEntityBatch {
		end := min(start+backend.MaxEntityBatch, len(ents))
		if _, err := es.PutEntities(ctx, app, ents[start:end]); err != nil {
			return fmt.Errorf("batch at row %d: %w", start, err)
		}
	}
	return nil
}

// downloadAll pages through every entity of kind with cursors.
func downloadAll(t *testing.T, es backend.Entities, app, ns, kind string, page int) []backend.Entity {
	t.Helper()
	var all []backend.Entity
	cursor := ""
	for range 100000 {
		ents, next, err := es.QueryEntities(t.Context(), app, backend.EntityQuery{Namespace: ns, Kind: kind}, cursor, page)
		if err != nil {
			t.Fatalf("QueryEntities after %d entities: %v", len(all), err)
		}
		if len(ents) > page {
			t.Fatalf("page of %d entities for limit %d", len(ents), page)
		}
		all = append(all, ents...)
		if next == "" {
			return all
		}
		cursor = next
	}
	t.Fatal("the download did not end")
	return nil
}

// sameRows fails unless got holds each of want exactly once, equal.
func sameRows(t *testing.T, got, want []backend.Entity) {
	t.Helper()
	index := make(map[string]backend.Entity, len(want))
	for _, e := range want {
		index[backend.KeyString(*e.Key)] = normalise(e)
	}
	seen := make(map[string]bool, len(got))
	bad := 0
	for _, e := range got {
		k := backend.KeyString(*e.Key)
		if seen[k] {
			t.Errorf("entity %s downloaded twice", k)
			bad++
		}
		seen[k] = true
		w, ok := index[k]
		if !ok {
			t.Errorf("entity %s was never uploaded", k)
			bad++
		} else if !equalEntity(normalise(e), w) {
			t.Errorf("entity %s differs:\n got %+v\nwant %+v", k, e, w)
			bad++
		}
		if bad > 5 {
			t.Fatal("too many differences")
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("downloaded %d distinct entities, want %d", len(seen), len(want))
	}
}

func equalEntity(a, b backend.Entity) bool {
	if !reflect.DeepEqual(a.Key, b.Key) || len(a.Properties) != len(b.Properties) {
		return false
	}
	for k, av := range a.Properties {
		bv, ok := b.Properties[k]
		if !ok || !av.Time.Equal(bv.Time) {
			return false
		}
		av.Time, bv.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(av, bv) {
			return false
		}
	}
	return true
}

// TestEmulatorPutQueryRows stores rows of every common value type (with
// ancestors, nulls, arrays, unindexed blobs) straight through PutEntities in
// batches of 500 and pages them back with cursors: every row comes back
// once, equal. (The 10,000-row CSV load through package bulkload is
// TestBulkloadCSV10kThroughEmulator.)
func TestEmulatorPutQueryRows(t *testing.T) {
	t.Parallel() // the emulator is shared; each test has its own project
	host := startEmulator(t)
	b := openAt(t, host)
	app := emulator.App("put-query")
	rows := testRows(3000)
	start := time.Now()
	if err := putAll(t.Context(), b, app, rows); err != nil {
		t.Fatal(err)
	}
	t.Logf("uploaded %d rows in %s", len(rows), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	got := downloadAll(t, b, app, "", "Row", 700)
	t.Logf("downloaded %d rows in %s", len(got), time.Since(start).Round(time.Millisecond))
	sameRows(t, got, rows)
	kinds, err := b.Kinds(t.Context(), app, "")
	if err != nil || fmt.Sprint(kinds) != "[Row]" {
		t.Fatalf("Kinds = %v, %v; want [Row] (Group exists only as a parent)", kinds, err)
	}
}

// Exported for the tests of package datastore_test, which drive the
// emulator through package bulkload.
var (
	StartEmulator = startEmulator
	EmulatorApp   = emulator.App
	DownloadAll   = downloadAll
	EqualEntity   = equalEntity
)
