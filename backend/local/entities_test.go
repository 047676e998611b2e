package local

import (
	"bytes"
	"database/sql"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// The codec keeps what JSON and Datastore's REST form would not: NaN and
// infinities, nanoseconds, empty versus absent blobs inside arrays.
func TestEntityCodecLossless(t *testing.T) {
	e := backend.Entity{
		Key: &backend.Key{Namespace: "n\x00s", Path: []backend.PathElement{{Kind: "P", Name: "a"}, {Kind: "C", ID: math.MaxInt64}}},
		Properties: map[string]backend.Value{
			"nan":  {Type: backend.DoubleType, Double: math.NaN()},
			"inf":  {Type: backend.DoubleType, Double: math.Inf(-1)},
			"negz": {Type: backend.DoubleType, Double: math.Copysign(0, -1)},
			"ns":   {Type: backend.TimestampType, Time: time.Date(1850, 1, 1, 0, 0, 0, 1, time.UTC)},
			"blob": {Type: backend.BlobType, Blob: []byte{}},
			"deep": {Type: backend.ArrayType, Array: []backend.Value{{Type: backend.EntityType, Entity: &backend.Entity{
				Key:        &backend.Key{Path: []backend.PathElement{{Kind: "E", Name: "x"}}},
				Properties: map[string]backend.Value{"g": {Type: backend.GeoPointType, GeoPoint: backend.GeoPoint{Lat: -90, Lng: 180}}},
			}}}},
			"nullkey": {Type: backend.KeyType},
		},
	}
	got, err := decodeEntity(rowKey(7, *e.Key), encodeEntity(nil, e))
	if err != nil {
		t.Fatal(err)
	}
	// Version 1 rows, which carry their key, read the same.
	if v1, err := decodeEntity(nil, encodeEntityV1(nil, e)); err != nil || !reflect.DeepEqual(v1.Key, e.Key) {
		t.Fatalf("version 1: key %v, %v; want %v", v1.Key, err, e.Key)
	}
	if bits := math.Float64bits(got.Properties["nan"].Double); !math.IsNaN(got.Properties["nan"].Double) {
		t.Errorf("NaN became %x", bits)
	}
	if math.Signbit(got.Properties["negz"].Double) != true {
		t.Error("-0 lost its sign")
	}
	if !got.Properties["ns"].Time.Equal(e.Properties["ns"].Time) {
		t.Errorf("time = %v, want %v", got.Properties["ns"].Time, e.Properties["ns"].Time)
	}
	delete(got.Properties, "nan")
	delete(e.Properties, "nan")
	got.Properties["ns"], e.Properties["ns"] = backend.Value{}, backend.Value{}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, e)
	}
}

// Truncated or altered data is an error, never a panic.
func TestEntityCodecCorrupt(t *testing.T) {
	e := everyTypeLocal()
	k := rowKey(300, *e.Key)
	for _, data := range [][]byte{encodeEntity(nil, e), encodeEntityV1(nil, e)} {
		for n := range len(data) {
			if _, err := decodeEntity(k, data[:n]); err == nil {
				t.Fatalf("decoding %d of %d bytes succeeded", n, len(data))
			}
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 2000 {
			c := bytes.Clone(data)
			c[r.IntN(len(c))] = byte(r.IntN(256))
			_, _ = decodeEntity(k, c) // must not panic
		}
	}
	data := encodeEntity(nil, e)
	for n := range len(k) {
		// Cut inside a trailing name, a row key is a key with a shorter
		// name; cut anywhere else it is refused. Never the whole key.
		if got, err := decodeEntity(k[:n], data); err == nil && reflect.DeepEqual(got.Key, e.Key) {
			t.Fatalf("a row key cut to %d of %d bytes decoded as the whole key", n, len(k))
		}
	}
}

// rowKey is the row key of an entity of app appID.
func rowKey(appID int64, k backend.Key) []byte {
	last := k.Path[len(k.Path)-1]
	return appendKeyOrder(appendEntityPrefix(nil, appID, last.Kind, k.Namespace), k)
}

// Row keys decode back to the keys they were made of, whatever bytes the
// kinds, names and namespaces hold.
func TestRowKeyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	str := func() string {
		b := make([]byte, r.IntN(4))
		for i := range b {
			b[i] = []byte{0, 1, 2, 0xFF, 'a', 0}[r.IntN(6)]
		}
		return string(b)
	}
	for range 5000 {
		k := backend.Key{Namespace: str()}
		for range 1 + r.IntN(3) {
			pe := backend.PathElement{Kind: "K" + str()}
			if r.IntN(2) == 0 {
				pe.ID = r.Int64()
			} else {
				pe.Name = str()
			}
			k.Path = append(k.Path, pe)
		}
		appID := r.Int64N(1 << 40)
		got, err := decodeRowKey(rowKey(appID, k))
		if err != nil || !reflect.DeepEqual(got, k) {
			t.Fatalf("row key of %#v decoded as %#v, %v", k, got, err)
		}
	}
}

func everyTypeLocal() backend.Entity {
	return backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "K", Name: "n"}}}, Properties: map[string]backend.Value{
		"s": {Type: backend.StringType, String: "x"}, "i": {Type: backend.IntType, Int: 5},
		"a": {Type: backend.ArrayType, Array: []backend.Value{{Type: backend.BoolType, Bool: true}}},
		"k": {Type: backend.KeyType, Key: &backend.Key{Path: []backend.PathElement{{Kind: "Z", ID: 3}}}},
	}}
}

// keyOrder sorts as Datastore does: by element, kind, ids before names,
// ids numerically, a parent before its children.
func TestKeyOrder(t *testing.T) {
	pe := func(kind string, id int64, name string) backend.PathElement {
		return backend.PathElement{Kind: kind, ID: id, Name: name}
	}
	want := []backend.Key{
		{Path: []backend.PathElement{pe("A", 2, "")}},
		{Path: []backend.PathElement{pe("A", 2, ""), pe("B", 1, "")}},
		{Path: []backend.PathElement{pe("A", 10, "")}},
		{Path: []backend.PathElement{pe("A", 1<<40, "")}},
		{Path: []backend.PathElement{pe("A", 0, "a")}},
		{Path: []backend.PathElement{pe("A", 0, "a"), pe("A", 1, "")}},
		{Path: []backend.PathElement{pe("A", 0, "a\x00")}},
		{Path: []backend.PathElement{pe("A", 0, "ab")}},
		{Path: []backend.PathElement{pe("A\x00", 1, "")}},
		{Path: []backend.PathElement{pe("AB", 1, "")}},
	}
	got := append([]backend.Key(nil), want...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	sort.Slice(got, func(i, j int) bool { return bytes.Compare(keyOrder(got[i]), keyOrder(got[j])) < 0 })
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order:\n got %v\nwant %v", got, want)
	}
}

func TestPutEntitiesRefusesBadKeys(t *testing.T) {
	b := openAt(t, t.TempDir())
	bad := []*backend.Key{
		nil,
		{},
		{Path: []backend.PathElement{{Kind: ""}}},
		{Path: []backend.PathElement{{Kind: "A"}, {Kind: "B", ID: 1}}},
		{Path: []backend.PathElement{{Kind: "A", ID: 1, Name: "x"}}},
		{Path: []backend.PathElement{{Kind: "A", ID: -1}}},
	}
	for _, k := range bad {
		if _, err := b.PutEntities(t.Context(), "app", []backend.Entity{{Key: k}}); err == nil {
			t.Errorf("PutEntities(%+v) succeeded", k)
		}
	}
	_, err := b.PutEntities(t.Context(), "app", []backend.Entity{{Key: &backend.Key{Path: []backend.PathElement{{Kind: "A", ID: 1}}},
		Properties: map[string]backend.Value{"x": {Type: "weird"}}}})
	if err == nil {
		t.Error("an unknown value type was stored")
	}
}

// NaN survives the store itself, not just the codec.
func TestStoreKeepsNaN(t *testing.T) {
	b := openAt(t, t.TempDir())
	k := &backend.Key{Path: []backend.PathElement{{Kind: "F", Name: "nan"}}}
	if _, err := b.PutEntities(t.Context(), "app", []backend.Entity{{Key: k, Properties: map[string]backend.Value{"d": {Type: backend.DoubleType, Double: math.NaN()}}}}); err != nil {
		t.Fatal(err)
	}
	got, _, err := b.QueryEntities(t.Context(), "app", backend.EntityQuery{Kind: "F"}, "", 5)
	if err != nil || len(got) != 1 || !math.IsNaN(got[0].Properties["d"].Double) {
		t.Fatalf("got %+v, %v; want one entity with NaN", got, err)
	}
	if _, _, err := b.QueryEntities(t.Context(), "app", backend.EntityQuery{Kind: "F"}, "not base64!", 5); err == nil {
		t.Error("a foreign cursor was accepted")
	}
}

// TestTypeTagMatchesTable keeps the switch in typeTag in step with typeTags,
// which decoding uses.
func TestTypeTagMatchesTable(t *testing.T) {
	for typ, tag := range typeTags {
		if got := typeTag(typ); got != tag {
			t.Errorf("typeTag(%q) = %d, typeTags has %d", typ, got, tag)
		}
	}
	if typeTags[backend.NullType] != nullTag {
		t.Errorf("nullTag is %d, typeTags has %d", nullTag, typeTags[backend.NullType])
	}
	if got := typeTag(""); got != typeTags[backend.NullType] {
		t.Errorf("typeTag(\"\") = %d, want the null tag", got)
	}
}

// Several batches go into one commit: all stored, or, when one is refused,
// none; keys come back per batch, incomplete ones allocated.
func TestPutEntityBatches(t *testing.T) {
	b := openAt(t, t.TempDir())
	mk := func(kind string, id int64) backend.Entity {
		return backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: kind, ID: id}}},
			Properties: map[string]backend.Value{"v": {Type: backend.IntType, Int: id}}}
	}
	bad := mk("K", 1)
	bad.Key.Path[0].ID = -1
	if _, err := b.PutEntityBatches(t.Context(), "app", [][]backend.Entity{{mk("K", 1)}, {bad}}); err == nil {
		t.Fatal("a batch with a negative id was accepted")
	}
	keys, err := b.PutEntityBatches(t.Context(), "app", [][]backend.Entity{{mk("K", 1), mk("K", 2)}, {mk("L", 0)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || len(keys[0]) != 2 || len(keys[1]) != 1 || keys[1][0].Path[0].ID < 3 {
		t.Fatalf("keys = %v; want 2 and 1, the incomplete one allocated above the stored ids", keys)
	}
	for kind, want := range map[string]int{"K": 2, "L": 1} {
		got, _, err := b.QueryEntities(t.Context(), "app", backend.EntityQuery{Kind: kind}, "", 10)
		if err != nil || len(got) != want {
			t.Errorf("kind %s: %d entities (%v), want %d", kind, len(got), err, want)
		}
	}
}

// PutCheckedEntityBatches stores what PutEntityBatches stores, read back
// the same, and still refuses a batch over Datastore's size; only the
// per-entity check, which its caller ran, is left out.
func TestPutCheckedEntityBatches(t *testing.T) {
	b := openAt(t, t.TempDir())
	mk := func(id int64) backend.Entity {
		return backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "K", ID: id}}},
			Properties: map[string]backend.Value{"v": {Type: backend.IntType, Int: id}, "s": {Type: backend.StringType, String: "x"}}}
	}
	big := make([]backend.Entity, backend.MaxEntityBatch+1)
	for i := range big {
		big[i] = mk(int64(i + 1))
	}
	if _, err := b.PutCheckedEntityBatches(t.Context(), "app", [][]backend.Entity{big}); err == nil {
		t.Fatal("a batch over the limit was accepted")
	}
	want := []backend.Entity{mk(1), mk(2), mk(3)}
	if _, err := b.PutCheckedEntityBatches(t.Context(), "app", [][]backend.Entity{want[:2], want[2:]}); err != nil {
		t.Fatal(err)
	}
	got, _, err := b.QueryEntities(t.Context(), "app", backend.EntityQuery{Kind: "K"}, "", 10)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v (%v), want %+v", got, err, want)
	}
}

// encodeEntityV1 encodes an entity with its key, as stores did before
// version 2 (to test reading them).
func encodeEntityV1(b []byte, e backend.Entity) []byte {
	b = append(b, codecWithKeyV1)
	return appendEntity(b, e)
}

// The committer turns SQLite's automatic checkpoint off for its commits and
// runs its own beside them: the entities still reach the database file as
// the load goes, not only at close, so the write-ahead log stays short; and
// the pool's connections get their automatic checkpoint back.
func TestEntityCommitsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	pad := string(bytes.Repeat([]byte("x"), 1000))
	written := 0
	for i := 0; written < 3*checkpointBytes; i++ {
		ents := make([]backend.Entity, backend.MaxEntityBatch)
		for j := range ents {
			ents[j] = backend.Entity{
				Key:        &backend.Key{Path: []backend.PathElement{{Kind: "Pad", ID: int64(i*len(ents) + j + 1)}}},
				Properties: map[string]backend.Value{"p": {Type: backend.StringType, String: pad, ExcludeFromIndexes: true}},
			}
			written += len(pad)
		}
		if _, err := b.PutEntities(t.Context(), "app", ents); err != nil {
			t.Fatal(err)
		}
	}
	b.entities.wait()
	fi, err := os.Stat(filepath.Join(dir, dbName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < int64(written)/3 {
		t.Fatalf("the database file holds %d bytes after %d bytes of entities were committed: no checkpoint ran", fi.Size(), written)
	}
	var n int
	if err := b.db.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("a pool connection's wal_autocheckpoint = %d, %v; want 1000", n, err)
	}
}

// Entity commits do not sync the log themselves, but a call returns only
// after a sync of the log that holds its commit; the connection goes back
// to the pool syncing at commit again, as every other writer expects.
func TestEntityPutReturnsAfterLogSync(t *testing.T) {
	b := openAt(t, t.TempDir())
	var mu sync.Mutex
	var steps []string
	b.onStep = func(step string) {
		mu.Lock()
		steps = append(steps, step)
		mu.Unlock()
	}
	for i := range 3 {
		ents := []backend.Entity{{Key: &backend.Key{Path: []backend.PathElement{{Kind: "K", ID: int64(i + 1)}}}, Properties: map[string]backend.Value{}}}
		if _, err := b.PutEntities(t.Context(), "app", ents); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := len(steps)
		last := ""
		if n > 0 {
			last = steps[n-1]
		}
		mu.Unlock()
		if n != i+1 || last != "sync entities" {
			t.Fatalf("after put %d the steps are %q; want one log sync per put, before it returned", i+1, steps)
		}
	}
	var mode int
	if err := b.db.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&mode); err != nil || mode != 2 {
		t.Errorf("after an entity put a pooled connection has synchronous=%d (%v), want 2 (FULL)", mode, err)
	}
}

// The committer keeps one connection for its commits, whatever else uses
// the pool between them: a connection that had not seen the last commits
// threw its page cache away at the start of the next transaction (and
// modernc's allocator handed the pages back to the kernel, to be faulted
// in again). It is its own (rawConn), not one of the pool's, whose
// connections keep syncing every commit and checkpointing.
func TestEntityCommitsKeepTheirConnection(t *testing.T) {
	b := openAt(t, t.TempDir())
	put := func(id int64) {
		t.Helper()
		ents := []backend.Entity{{Key: &backend.Key{Path: []backend.PathElement{{Kind: "K", ID: id}}}, Properties: map[string]backend.Value{}}}
		if _, err := b.PutEntities(t.Context(), "app", ents); err != nil {
			t.Fatal(err)
		}
	}
	put(1)
	first := b.entities.conn
	if first == nil {
		t.Fatal("the committer kept no connection after its commit")
	}
	before, err := first.queryInt(`PRAGMA data_version`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		// Another writer between the commits, on the pool.
		if _, err := b.AllocateIDs(t.Context(), "app", backend.Key{Path: []backend.PathElement{{Kind: "K"}}}, 1); err != nil {
			t.Fatal(err)
		}
		put(int64(i + 2))
		if b.entities.conn != first {
			t.Fatalf("commit %d ran on another connection than the first", i+2)
		}
	}
	after, err := first.queryInt(`PRAGMA data_version`)
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatal("the committer's connection did not see the pool's writes: the test proves nothing")
	}
	if mode, err := first.queryInt(`PRAGMA synchronous`); err != nil || mode != 1 {
		t.Errorf("the committer's connection has synchronous=%d (%v), want 1 (NORMAL)", mode, err)
	}
	if fk, err := first.queryInt(`PRAGMA foreign_keys`); err != nil || fk != 1 {
		t.Errorf("the committer's connection has foreign_keys=%d (%v), want 1 as the pool's", fk, err)
	}
	n := b.db.Stats().MaxOpenConnections
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := b.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var sync, ckpt int64
		if err := c.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&ckpt); err != nil {
			t.Fatal(err)
		}
		if sync != 2 || ckpt != 1000 {
			t.Errorf("a pool connection has synchronous=%d and wal_autocheckpoint=%d, want 2 (FULL) and 1000", sync, ckpt)
		}
	}
	b.entities.closeStmts()
	if b.entities.conn != nil {
		t.Fatal("the committer still holds its connection after closeStmts")
	}
	put(5) // opens another
	if b.entities.conn == nil || b.entities.conn == first {
		t.Fatal("the committer did not open a connection of its own again")
	}
}

// An encoded batch keeps nothing of its entities' property maps (the bulk
// loader refills them at once), holds what was appended to it after the
// entities it was made of, stores as PutCheckedEntityBatches does, and
// can be sent again after a failure: an incomplete key gets an id each
// time. Another store's batch, or a released one, is refused.
func TestEncodedEntityBatches(t *testing.T) {
	b := openAt(t, t.TempDir())
	mk := func(id int64) backend.Entity {
		return backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "K", ID: id}}},
			Properties: map[string]backend.Value{"v": {Type: backend.IntType, Int: id}, "s": {Type: backend.StringType, String: "x"}}}
	}
	want := []backend.Entity{mk(1), mk(2), mk(0)}
	given := make([]backend.Entity, len(want))
	for i, e := range want {
		k := cloneKey(*e.Key)
		given[i] = backend.Entity{Key: &k, Properties: maps.Clone(e.Properties)}
	}
	eb1, err := b.EncodeEntities(given[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := eb1.Append(given[1:2]); err != nil { // a bulk load encodes a batch in chunks
		t.Fatal(err)
	}
	eb2, err := b.EncodeEntities(given[2:])
	if err != nil {
		t.Fatal(err)
	}
	if eb1.Len() != 2 || eb2.Len() != 1 {
		t.Fatalf("encoded batches of %d and %d entities, want 2 and 1", eb1.Len(), eb2.Len())
	}
	for _, e := range given { // the loader refills its maps
		e.Properties["v"] = backend.Value{Type: backend.StringType, String: "refilled"}
		delete(e.Properties, "s")
	}
	for range 2 { // sent again, as after a failed commit
		if _, err := b.PutEncodedEntityBatches(t.Context(), "app", []backend.EncodedEntities{eb1, eb2}); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := b.QueryEntities(t.Context(), "app", backend.EntityQuery{Kind: "K"}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || !reflect.DeepEqual(got[:2], want[:2]) {
		t.Fatalf("read back %+v, want %+v and two entities of the incomplete key", got, want[:2])
	}
	for _, e := range got[2:] {
		if id := e.Key.Path[0].ID; id <= 2 || !reflect.DeepEqual(e.Properties, want[2].Properties) {
			t.Errorf("the incomplete key's entity was stored as %+v (id %d), want its properties under a new id", e, id)
		}
	}
	if got[2].Key.Path[0].ID == got[3].Key.Path[0].ID {
		t.Errorf("the incomplete key got id %d both times", got[2].Key.Path[0].ID)
	}
	other := openAt(t, t.TempDir())
	if _, err := other.PutEncodedEntityBatches(t.Context(), "app", []backend.EncodedEntities{eb1}); err == nil {
		t.Error("a store took a batch another store encoded")
	}
	if err := eb2.Append(make([]backend.Entity, backend.MaxEntityBatch)); err == nil {
		t.Error("a batch was appended to past the limit")
	}
	eb1.Release()
	if _, err := b.PutEncodedEntityBatches(t.Context(), "app", []backend.EncodedEntities{eb1}); err == nil {
		t.Error("a released batch was stored")
	}
	if err := eb1.Append(given[:1]); err == nil {
		t.Error("a released batch was appended to")
	}
	if _, err := b.EncodeEntities(make([]backend.Entity, backend.MaxEntityBatch+1)); err == nil {
		t.Error("a batch over the limit was encoded")
	}
}
