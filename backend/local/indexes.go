package local

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/appcfg/appcfg/backend"
)

// normalizeIndex checks a definition and spells its directions out, so that
// "" and "asc" name the same index.
func normalizeIndex(def backend.IndexDef) (backend.IndexDef, error) {
	if def.Kind == "" {
		return def, errors.New("an index has no kind: give the entity kind it indexes")
	}
	props := make([]backend.IndexProperty, len(def.Properties))
	for i, p := range def.Properties {
		if p.Name == "" {
			return def, fmt.Errorf("index on %s: property %d has no name", def.Kind, i+1)
		}
		switch p.Direction {
		case "", "asc", "ascending":
			p.Direction = "asc"
		case "desc", "descending":
			p.Direction = "desc"
		default:
			return def, fmt.Errorf("index on %s: property %s has direction %q: use asc or desc", def.Kind, p.Name, p.Direction)
		}
		props[i] = p
	}
	def.Properties = props
	return def, nil
}

// indexID derives an index's id from its definition, so creating the same
// definition twice, from any process, finds the same row.
func indexID(def backend.IndexDef, props string) string {
	h := sha1.New()
	fmt.Fprintf(h, "%q %t %s", def.Kind, def.Ancestor, props)
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// ListIndexes returns app's indexes ordered by id, first finishing any build
// that is due.
func (b *Backend) ListIndexes(ctx context.Context, app string) ([]backend.Index, error) {
	var out []backend.Index
	err := b.update(ctx, "listing the indexes of app "+app, func(tx *sql.Tx) error {
		appID, err := lookupApp(ctx, tx, app)
		if errors.Is(err, backend.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := b.buildPending(ctx, tx, appID); err != nil {
			return err
		}
		out, err = readIndexes(ctx, tx, appID, "")
		return err
	})
	return out, err
}

// CreateIndexes records each definition the app lacks as BUILDING and returns
// every definition's index. Building finishes at the next ListIndexes or
// CreateIndexes, the way a host reports progress on a later poll.
func (b *Backend) CreateIndexes(ctx context.Context, app string, defs []backend.IndexDef) ([]backend.Index, error) {
	if err := checkName("application id", app); err != nil {
		return nil, err
	}
	norm := make([]backend.IndexDef, len(defs))
	for i, d := range defs {
		var err error
		if norm[i], err = normalizeIndex(d); err != nil {
			return nil, err
		}
	}
	out := make([]backend.Index, len(norm))
	err := b.update(ctx, "creating the indexes of app "+app, func(tx *sql.Tx) error {
		appID, err := ensureApp(ctx, tx, app)
		if err != nil {
			return err
		}
		if err := b.buildPending(ctx, tx, appID); err != nil {
			return err
		}
		for i, d := range norm {
			if out[i], err = b.addIndex(ctx, tx, appID, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// addIndex inserts def unless present and returns its row.
func (b *Backend) addIndex(ctx context.Context, tx *sql.Tx, appID int64, def backend.IndexDef) (backend.Index, error) {
	props, err := json.Marshal(def.Properties)
	if err != nil {
		return backend.Index{}, fmt.Errorf("index on %s: %w", def.Kind, err)
	}
	id := indexID(def, string(props))
	_, err = tx.ExecContext(ctx, `
INSERT INTO indexes (app_id, id, kind, ancestor, properties, state, created) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`, appID, id, def.Kind, def.Ancestor, string(props), string(backend.IndexBuilding), b.now().UnixNano())
	if err != nil {
		return backend.Index{}, dbErr(ctx, "creating the index on "+def.Kind, err)
	}
	got, err := readIndexes(ctx, tx, appID, id)
	if err != nil {
		return backend.Index{}, err
	}
	if len(got) != 1 {
		return backend.Index{}, fmt.Errorf("index %s on %s vanished while it was created", id, def.Kind)
	}
	return got[0], nil
}

// readIndexes reads the app's indexes ordered by id, or only the one with id
// when id is not "".
func readIndexes(ctx context.Context, q queryer, appID int64, id string) ([]backend.Index, error) {
	rows, err := q.QueryContext(ctx, `
SELECT id, kind, ancestor, properties, state FROM indexes
WHERE app_id = ? AND (? = '' OR id = ?) ORDER BY id`, appID, id, id)
	if err != nil {
		return nil, dbErr(ctx, "reading indexes", err)
	}
	defer rows.Close()
	var out []backend.Index
	for rows.Next() {
		var ix backend.Index
		var props, state string
		if err := rows.Scan(&ix.ID, &ix.Def.Kind, &ix.Def.Ancestor, &props, &state); err != nil {
			return nil, dbErr(ctx, "reading indexes", err)
		}
		if err := json.Unmarshal([]byte(props), &ix.Def.Properties); err != nil {
			return nil, fmt.Errorf("index %s in the store is damaged: %w", ix.ID, err)
		}
		ix.State = backend.IndexState(state)
		out = append(out, ix)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "reading indexes", err)
	}
	return out, nil
}

// buildPending builds every BUILDING index of the app and marks it SERVING,
// or ERROR when its build fails (see buildIndex). It runs at the start of every ListIndexes
// and CreateIndexes, so an index created by one call is BUILDING in that
// call's answer and built by the next one: the poll that update_indexes
// --wait makes sees the transition a real host reports.
func (b *Backend) buildPending(ctx context.Context, tx *sql.Tx, appID int64) error {
	pending, err := readIndexes(ctx, tx, appID, "")
	if err != nil {
		return err
	}
	for _, ix := range pending {
		if ix.State != backend.IndexBuilding {
			continue
		}
		state := backend.IndexServing
		built, err := b.buildIndex(ctx, tx, appID, ix)
		if err != nil {
			return err
		}
		if !built {
			state = backend.IndexError
		}
		if _, err := tx.ExecContext(ctx, `UPDATE indexes SET state = ? WHERE app_id = ? AND id = ?`,
			string(state), appID, ix.ID); err != nil {
			return dbErr(ctx, "building index "+ix.ID, err)
		}
	}
	return nil
}

// buildIndex builds one index over the app's stored entities of its kind,
// in every namespace: the work is one pass over those entities, and it fails
// as Datastore's build fails, on an entity that would need more index
// entries than an entity may have or a value that cannot be indexed. The
// local store answers no queries, so the entries are counted, not written.
//
// built is false when an entity breaks a limit: the index is then in ERROR,
// as on Datastore. err is a failure to read the store, which leaves the
// index BUILDING for the next attempt.
//
// This is the seam between index builds and the entity store (entities.go,
// schemaEntities): a store that also served queries would write the index
// rows here, in the same pass.
func (b *Backend) buildIndex(ctx context.Context, tx *sql.Tx, appID int64, ix backend.Index) (built bool, err error) {
	what := "building index " + ix.ID + " over the entities of kind " + ix.Def.Kind
	prefix := appendKindPrefix(nil, appID, ix.Def.Kind) // every namespace
	rows, err := tx.QueryContext(ctx, `SELECT k, data FROM entities WHERE k > ? AND k < ?`, prefix, prefixEnd(prefix))
	if err != nil {
		return false, dbErr(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, data []byte
		if err := rows.Scan(&k, &data); err != nil {
			return false, dbErr(ctx, what, err)
		}
		e, err := decodeEntity(k, data)
		if err != nil {
			// A damaged entity cannot be indexed, now or on a retry.
			return false, nil
		}
		if _, err := indexEntries(ix.Def, e); err != nil {
			return false, nil
		}
	}
	if err := rows.Err(); err != nil {
		return false, dbErr(ctx, what, err)
	}
	return true, nil
}

// Datastore's limits on what one entity may put in indexes.
const (
	// maxIndexEntries is the most entries one entity may have in one
	// composite index ("exploding index").
	maxIndexEntries = 20000
	// maxIndexedBytes is the longest string or blob that can be indexed.
	maxIndexedBytes = 1500
)

// indexEntries counts the entries entity e has in the index def: one per
// combination of the values of its properties (a list property contributes
// each element), times the ancestors of its key for an ancestor index. An
// entity that lacks a property of the index, or whose value is excluded
// from indexes, is not in it (0). It fails when the entity breaks a limit.
func indexEntries(def backend.IndexDef, e backend.Entity) (int, error) {
	n := 1
	if def.Ancestor {
		if e.Key == nil || len(e.Key.Path) == 0 {
			return 0, nil
		}
		n = len(e.Key.Path)
	}
	for _, p := range def.Properties {
		var values int
		if p.Name == "__key__" {
			values = 1
		} else {
			v, ok := e.Properties[p.Name]
			if !ok {
				return 0, nil
			}
			var err error
			if values, err = indexedValues(def.Kind, p.Name, v); err != nil {
				return 0, err
			}
		}
		if values == 0 {
			return 0, nil
		}
		n *= values
		if n > maxIndexEntries {
			return 0, fmt.Errorf("an entity of kind %s has more than %d entries in index %s; reduce its list properties or drop the index",
				def.Kind, maxIndexEntries, describeProps(def))
		}
	}
	return n, nil
}

// indexedValues is how many values of v an index holds: the elements of a
// list that are not excluded, 1 for a plain indexed value.
func indexedValues(kind, name string, v backend.Value) (int, error) {
	if v.Type != backend.ArrayType {
		if v.ExcludeFromIndexes {
			return 0, nil
		}
		return 1, checkIndexable(kind, name, v)
	}
	n := 0
	for _, el := range v.Array {
		if el.ExcludeFromIndexes {
			continue
		}
		if err := checkIndexable(kind, name, el); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

func checkIndexable(kind, name string, v backend.Value) error {
	size := 0
	switch v.Type {
	case backend.StringType:
		size = len(v.String)
	case backend.BlobType:
		size = len(v.Blob)
	case backend.EntityType:
		return fmt.Errorf("property %s of an entity of kind %s is an embedded entity, which cannot be in a composite index", name, kind)
	}
	if size > maxIndexedBytes {
		return fmt.Errorf("property %s of an entity of kind %s is %d bytes long; at most %d bytes can be indexed (exclude it from indexes)",
			name, kind, size, maxIndexedBytes)
	}
	return nil
}

// describeProps names an index for a build error.
func describeProps(def backend.IndexDef) string {
	s := def.Kind + "("
	if def.Ancestor {
		s += "ancestor; "
	}
	for i, p := range def.Properties {
		if i > 0 {
			s += ", "
		}
		s += p.Name + " " + p.Direction
	}
	return s + ")"
}

// DeleteIndex deletes one index at once; the local store has no slow
// DELETING phase.
func (b *Backend) DeleteIndex(ctx context.Context, app, id string) error {
	return b.update(ctx, "deleting index "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
DELETE FROM indexes WHERE id = ? AND app_id = (SELECT id FROM apps WHERE name = ?)`, id, app)
		if err != nil {
			return dbErr(ctx, "deleting index "+id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return dbErr(ctx, "deleting index "+id, err)
		}
		if n == 0 {
			return fmt.Errorf("app %s has no index %s (list them with list_indexes): %w", app, id, backend.ErrNotFound)
		}
		return nil
	})
}
