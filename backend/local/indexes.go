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
// or ERROR when its build fails.
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
		if err := b.buildIndex(ctx, tx, appID, ix); err != nil {
			if ctx.Err() != nil {
				return dbErr(ctx, "building index "+ix.ID, err)
			}
			state = backend.IndexError
		}
		if _, err := tx.ExecContext(ctx, `UPDATE indexes SET state = ? WHERE app_id = ? AND id = ?`,
			string(state), appID, ix.ID); err != nil {
			return dbErr(ctx, "building index "+ix.ID, err)
		}
	}
	return nil
}

// buildIndex fills one index from the app's stored entities. This is the seam
// for the entity store: the local store keeps no entities yet, so there is
// nothing to scan and an index is complete as soon as it is recorded. When
// entities arrive, this function writes their index rows inside tx.
func (b *Backend) buildIndex(ctx context.Context, tx *sql.Tx, appID int64, ix backend.Index) error {
	return ctx.Err()
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
