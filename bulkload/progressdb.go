package bulkload

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"

	// The pure-Go SQLite driver, as the local backend uses.
	_ "modernc.org/sqlite"
)

// Batch states in the progress table, as the legacy bulkloader numbered them.
// This version records read, sent and error; it reads stateSending (from a
// legacy-style database) as not sent, like read.
const (
	stateRead    = 0
	stateSending = 1
	stateSent    = 2
	stateError   = 3
)

// progressSchema keeps the legacy tables (bulkloader_database_signature,
// progress with i_state) and adds failed_rows: records that could not be
// converted, retried by the next run so fixing the input loses nothing.
const progressSchema = `
CREATE TABLE IF NOT EXISTS bulkloader_database_signature (value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS progress (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	state     INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	key_start INTEGER,
	key_end   INTEGER
);
CREATE INDEX IF NOT EXISTS i_state ON progress (state);
CREATE TABLE IF NOT EXISTS failed_rows (
	record  INTEGER PRIMARY KEY,
	line    INTEGER NOT NULL,
	message TEXT    NOT NULL
);
`

// progressDB records each batch's state so a later run resumes. A nil
// *progressDB (progress tracking disabled) accepts every call and records
// nothing.
type progressDB struct {
	path string
	db   *sql.DB
	mu   sync.Mutex
}

// batchRange is a progress row.
type batchRange struct {
	id         int64
	state      int
	start, end int
}

// openProgress opens or creates the database and checks its signature:
// a database written with other options refuses to resume.
func openProgress(ctx context.Context, path, signature string) (*progressDB, error) {
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening the progress database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	p := &progressDB{path: path, db: db}
	if err := p.init(ctx, signature); err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

func (p *progressDB) init(ctx context.Context, signature string) error {
	if _, err := p.db.ExecContext(ctx, progressSchema); err != nil {
		return fmt.Errorf("the progress database %s: %w (is it a bulkloader progress database?)", p.path, err)
	}
	var have string
	err := p.db.QueryRowContext(ctx, `SELECT value FROM bulkloader_database_signature`).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = p.db.ExecContext(ctx, `INSERT INTO bulkloader_database_signature (value) VALUES (?)`, signature)
		if err != nil {
			return fmt.Errorf("writing the progress database %s: %w", p.path, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading the progress database %s: %w", p.path, err)
	case have != signature:
		return &SignatureError{Path: p.path, Have: have, Want: signature}
	}
	return nil
}

// SignatureError is a progress database written by a run with other options.
type SignatureError struct{ Path, Have, Want string }

func (e *SignatureError) Error() string {
	return fmt.Sprintf("Database signature mismatch: the progress database %s was written by a run with other options, so it cannot resume this one.\n"+
		"It has:\n%s\nThis run has:\n%s\nRerun with the same options, or give another --db_filename (or --db_filename=skip) to start over.",
		e.Path, indent(e.Have), indent(e.Want))
}

func indent(s string) string {
	out := "  "
	for _, c := range s {
		out += string(c)
		if c == '\n' {
			out += "  "
		}
	}
	return out
}

func (p *progressDB) close() error {
	if p == nil {
		return nil
	}
	return p.db.Close()
}

// ranges returns every recorded batch, by start.
func (p *progressDB) ranges(ctx context.Context) ([]batchRange, error) {
	if p == nil {
		return nil, nil
	}
	rows, err := p.db.QueryContext(ctx, `SELECT id, state, key_start, key_end FROM progress ORDER BY key_start`)
	if err != nil {
		return nil, fmt.Errorf("reading the progress database %s: %w", p.path, err)
	}
	defer rows.Close()
	var out []batchRange
	for rows.Next() {
		var r batchRange
		if err := rows.Scan(&r.id, &r.state, &r.start, &r.end); err != nil {
			return nil, fmt.Errorf("reading the progress database %s: %w", p.path, err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out, rows.Err()
}

// failed returns the records earlier runs could not convert.
func (p *progressDB) failed(ctx context.Context) (map[int]bool, error) {
	m := map[int]bool{}
	if p == nil {
		return m, nil
	}
	rows, err := p.db.QueryContext(ctx, `SELECT record FROM failed_rows`)
	if err != nil {
		return nil, fmt.Errorf("reading the progress database %s: %w", p.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		m[n] = true
	}
	return m, rows.Err()
}

// addBatch records a new batch as read and returns its id.
func (p *progressDB) addBatch(ctx context.Context, kind string, start, end int) (int64, error) {
	if p == nil {
		return 0, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	res, err := p.db.ExecContext(ctx, `INSERT INTO progress (state, kind, key_start, key_end) VALUES (?, ?, ?, ?)`, stateRead, kind, start, end)
	if err != nil {
		return 0, fmt.Errorf("recording a batch in %s: %w", p.path, err)
	}
	return res.LastInsertId()
}

// setState records a batch's new state (id 0: a retry batch with no row).
func (p *progressDB) setState(ctx context.Context, id int64, state int) error {
	if p == nil || id == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.db.ExecContext(ctx, `UPDATE progress SET state = ? WHERE id = ?`, state, id); err != nil {
		return fmt.Errorf("recording a batch's state in %s: %w", p.path, err)
	}
	return nil
}

// finish marks a batch sent and records its failed rows (clearing those of
// its records that now succeeded) in one transaction, so a crash leaves
// either the old or the new state.
func (p *progressDB) finish(ctx context.Context, id int64, ok []int, failed []RowError) error {
	if p == nil {
		return nil
	}
	if len(ok) == 0 && len(failed) == 0 {
		// The usual batch: one statement is its own transaction.
		return p.setState(ctx, id, stateSent)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording a batch in %s: %w", p.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if id != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE progress SET state = ? WHERE id = ?`, stateSent, id); err != nil {
			return fmt.Errorf("recording a batch in %s: %w", p.path, err)
		}
	}
	for _, n := range ok {
		if _, err := tx.ExecContext(ctx, `DELETE FROM failed_rows WHERE record = ?`, n); err != nil {
			return fmt.Errorf("recording a batch in %s: %w", p.path, err)
		}
	}
	for _, f := range failed {
		if _, err := tx.ExecContext(ctx, `INSERT INTO failed_rows (record, line, message) VALUES (?, ?, ?)
			ON CONFLICT (record) DO UPDATE SET line = excluded.line, message = excluded.message`, f.Record, f.Line, f.Err.Error()); err != nil {
			return fmt.Errorf("recording a failed row in %s: %w", p.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording a batch in %s: %w", p.path, err)
	}
	return nil
}
