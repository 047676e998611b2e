package bulkload

import (
	"context"
	"database/sql"
	"errors"
)

// resultSchema is the result database of a resumable download. The legacy
// bulkloader kept every downloaded entity in it and wrote the output at the
// end; this one writes the output as it goes, into a partial file beside
// it, and records the key ranges written with the offset the output had
// after them. A resume truncates the partial file to the last recorded
// offset (dropping anything written after it) and continues each kind
// from its cursor: nothing is written twice, nothing is skipped.
const resultSchema = `
CREATE TABLE IF NOT EXISTS bulkloader_database_signature (value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partial_output (path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ranges (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	kind      TEXT    NOT NULL,
	key_start TEXT    NOT NULL,
	key_end   TEXT    NOT NULL,
	entities  INTEGER NOT NULL,
	cursor    TEXT    NOT NULL, -- where the kind continues; '' once done
	done      INTEGER NOT NULL,
	offset    INTEGER NOT NULL  -- the output's size after this range
);
`

// resultDB records a download's progress. A nil *resultDB (not resumable)
// records nothing.
type resultDB struct {
	path string
	db   *sql.DB
}

// kindState is where one kind's export stands.
type kindState struct {
	cursor string
	done   bool
}

// resumeState is what earlier runs recorded.
type resumeState struct {
	partial  string // the partial output, "" when none was recorded
	offset   int64  // its size after the last recorded range
	entities int    // entities written before
	kinds    map[string]kindState
}

func openResultDB(ctx context.Context, path, signature string) (*resultDB, error) {
	db, err := openBulkDB(ctx, path, "result", resultSchema, signature)
	if err != nil {
		return nil, err
	}
	return &resultDB{path: path, db: db}, nil
}

func (r *resultDB) close() error {
	if r == nil {
		return nil
	}
	return r.db.Close()
}

func (r *resultDB) dbErr(err error) error {
	return writeErr("the result database", r.path, err)
}

// state reads what earlier runs recorded.
func (r *resultDB) state(ctx context.Context) (resumeState, error) {
	st := resumeState{kinds: map[string]kindState{}}
	if r == nil {
		return st, nil
	}
	err := r.db.QueryRowContext(ctx, `SELECT path FROM partial_output`).Scan(&st.partial)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, r.dbErr(err)
	}
	err = r.db.QueryRowContext(ctx, `SELECT coalesce(sum(entities), 0), coalesce(max(offset), 0) FROM ranges`).Scan(&st.entities, &st.offset)
	if err != nil {
		return st, r.dbErr(err)
	}
	rows, err := r.db.QueryContext(ctx, `SELECT kind, cursor, done FROM ranges ORDER BY id`)
	if err != nil {
		return st, r.dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var ks kindState
		if err := rows.Scan(&kind, &ks.cursor, &ks.done); err != nil {
			return st, r.dbErr(err)
		}
		st.kinds[kind] = ks // the last range of a kind says where it stands
	}
	return st, rows.Err()
}

// setPartial records the partial output's path, before anything is
// written to it.
func (r *resultDB) setPartial(ctx context.Context, path string) error {
	if r == nil {
		return nil
	}
	if _, err := r.db.ExecContext(ctx, `INSERT INTO partial_output (path) VALUES (?)`, path); err != nil {
		return r.dbErr(err)
	}
	return nil
}

// keyRange is a run of entities of one kind written to the output.
type keyRange struct {
	kind       string
	start, end string // the first and last keys, as the export prints them
	entities   int
	cursor     string
	done       bool
	offset     int64
}

// record adds a written range. The output must be durable up to offset
// before it is called.
func (r *resultDB) record(ctx context.Context, k keyRange) error {
	if r == nil {
		return nil
	}
	_, err := r.db.ExecContext(ctx, `INSERT INTO ranges (kind, key_start, key_end, entities, cursor, done, offset) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.kind, k.start, k.end, k.entities, k.cursor, k.done, k.offset)
	if err != nil {
		return r.dbErr(err)
	}
	return nil
}
