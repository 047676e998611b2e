package local

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
)

// schemaEntities stores entities for the Entities capability (its first
// form: entityKeysV2 below replaces the table's key).
//
// entities.key is an order-preserving encoding of the key's path (see
// keyOrder), so "ORDER BY key" is Datastore's key order and a query cursor is
// just the last key returned. data is the whole entity in a lossless binary
// form (see entityCodec). entity_ids holds, per app, the next id to allocate
// for an incomplete key; storing a complete key with a larger id moves it
// past that id, as the legacy bulkloader's AllocateIds reservation did.
const schemaEntities = `
CREATE TABLE entities (
	app_id    INTEGER NOT NULL REFERENCES apps(id),
	namespace TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	key       BLOB    NOT NULL,
	data      BLOB    NOT NULL,
	PRIMARY KEY (app_id, namespace, kind, key)
) WITHOUT ROWID;
CREATE TABLE entity_ids (
	app_id INTEGER PRIMARY KEY REFERENCES apps(id),
	next   INTEGER NOT NULL
);
`

// entityKeysV2 replaces the entities table's four-column primary key with
// one blob, entityKey: (app, kind, namespace) as its prefix, then the key
// path. Every insert compares keys a dozen times, and one memcmp is cheaper
// than four typed columns: a bulk load stores a fifth faster. entity_kinds
// keeps what Kinds lists, as the kind is no longer a column of its own.
var entityKeysV2 = migration{
	sql: `
CREATE TABLE entities_v2 (
	k    BLOB NOT NULL PRIMARY KEY,
	data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE entity_kinds (
	app_id    INTEGER NOT NULL REFERENCES apps(id),
	namespace TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	PRIMARY KEY (app_id, namespace, kind)
) WITHOUT ROWID;
INSERT INTO entity_kinds (app_id, namespace, kind) SELECT DISTINCT app_id, namespace, kind FROM entities;
`,
	code: moveEntitiesToV2,
}

// moveEntitiesToV2 copies the entities into the new table with their new
// keys (the escaping of the key's strings is Go's, not SQL's), then drops
// the old table.
func moveEntitiesToV2(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT app_id, namespace, kind, key, data FROM entities`)
	if err != nil {
		return fmt.Errorf("reading the stored entities: %w", err)
	}
	defer rows.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO entities_v2 (k, data) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("copying the stored entities: %w", err)
	}
	defer ins.Close()
	for rows.Next() {
		var appID int64
		var ns, kind string
		var key, data []byte
		if err := rows.Scan(&appID, &ns, &kind, &key, &data); err != nil {
			return fmt.Errorf("reading the stored entities: %w", err)
		}
		k := append(appendEntityPrefix(nil, appID, kind, ns), key...)
		if _, err := ins.ExecContext(ctx, k, data); err != nil {
			return fmt.Errorf("copying the stored entities: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the stored entities: %w", err)
	}
	rows.Close()
	if _, err := tx.ExecContext(ctx, `DROP TABLE entities; ALTER TABLE entities_v2 RENAME TO entities`); err != nil {
		return fmt.Errorf("replacing the entities table: %w", err)
	}
	return nil
}

// appendEntityPrefix appends the part of an entity's row key that its app,
// kind and namespace give: the app's row id (a length byte, then big-endian
// bytes, so longer is larger), then kind and namespace, each escaped as in
// keyOrder and ended by 00 00. All entities of one kind of an app share
// the prefix up to the kind's end, so an index build reads one key range.
func appendEntityPrefix(b []byte, appID int64, kind, ns string) []byte {
	b = appendKindPrefix(b, appID, kind)
	b = appendEscaped(b, ns)
	return append(b, 0, 0)
}

func appendKindPrefix(b []byte, appID int64, kind string) []byte {
	u := uint64(appID)
	n := (bits.Len64(u) + 7) / 8
	b = append(b, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(u>>(8*i)))
	}
	b = appendEscaped(b, kind)
	return append(b, 0, 0)
}

// rowKeyAppID reads back the app id appendKindPrefix put at the start of
// a row key; false when k is too short to hold one.
func rowKeyAppID(k []byte) (int64, bool) {
	if len(k) == 0 || k[0] > 8 || len(k) < 1+int(k[0]) {
		return 0, false
	}
	var u uint64
	for _, c := range k[1 : 1+k[0]] {
		u = u<<8 | uint64(c)
	}
	return int64(u), true
}

// prefixEnd is the smallest key above every key that starts with prefix,
// which ends in the separator 00 00.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	end[len(end)-1] = 1
	return end
}
