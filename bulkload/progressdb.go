package bulkload

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/diskfull"
	"github.com/appcfg/appcfg/internal/privfile"

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
// converted, retried by the next run so fixing the input loses nothing;
// and allocated_ids: the ids allocated for records without a key, so that
// a resend stores them under the same keys.
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
CREATE TABLE IF NOT EXISTS allocated_ids (
	record INTEGER PRIMARY KEY,
	id     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS failed_rows (
	record  INTEGER PRIMARY KEY,
	line    INTEGER NOT NULL,
	message TEXT    NOT NULL
);
`

// progressDB records each batch's state so a later run resumes. A nil
// *progressDB (progress tracking disabled) accepts every call and records
// nothing.
//
// Records are written by a goroutine of its own, in order, everything
// queued within progressLag in one transaction: a transaction per batch
// read and per batch sent cost a bulk load a twelfth of its CPU. A record
// may so lag what happened by progressLag and the transaction being
// written (about twenty batches at full speed); a kill then loses those
// newest records only (never one in the middle), and a resume sends
// those batches again, which stores nothing twice: complete keys are
// upserted, and a keyless record gets the id recorded for it (saveIDs),
// even in a batch whose record of being read was lost. close writes out
// what is queued, so Ctrl-C keeps everything.
type progressDB struct {
	path string
	db   *sql.DB

	mu     sync.Mutex
	nextID int64 // id of the next batch recorded
	err    error // the recorder's first error

	ops  chan progressOp
	done chan struct{}

	// stmts are the recorder's statements (the progressSQL), prepared
	// once: parsing each statement again for every record was a third
	// of the progress database's share of a load.
	stmts [len(progressSQL)]*sql.Stmt
}

// The statements the recorder runs, indexed by these constants.
const (
	sqlAdd = iota
	sqlState
	sqlClearFailed
	sqlFailed
)

var progressSQL = [...]string{
	sqlAdd:         `INSERT INTO progress (id, state, kind, key_start, key_end) VALUES (?, ?, ?, ?, ?)`,
	sqlState:       `UPDATE progress SET state = ? WHERE id = ?`,
	sqlClearFailed: `DELETE FROM failed_rows WHERE record = ?`,
	sqlFailed: `INSERT INTO failed_rows (record, line, message) VALUES (?, ?, ?)
			ON CONFLICT (record) DO UPDATE SET line = excluded.line, message = excluded.message`,
}

// progressOp is one record to write: a batch read (add), a batch's new
// state, or a batch sent with its failed and fixed rows (finish).
type progressOp struct {
	op         int
	id         int64
	state      int
	kind       string
	start, end int
	ok         []int
	failed     []RowError
}

const (
	opAdd = iota
	opState
	opFinish
)

// batchRange is a progress row.
type batchRange struct {
	id         int64
	state      int
	start, end int
}

// openProgress opens or creates the database and checks its signature:
// a database written with other options refuses to resume.
func openProgress(ctx context.Context, path, signature string) (*progressDB, error) {
	db, err := openBulkDB(ctx, path, "progress", progressSchema, signature)
	if err != nil {
		return nil, err
	}
	p := &progressDB{path: path, db: db}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM progress`).Scan(&p.nextID); err != nil {
		db.Close()
		return nil, fmt.Errorf("reading the progress database %s: %w", path, err)
	}
	for i, q := range progressSQL {
		if p.stmts[i], err = db.PrepareContext(ctx, q); err != nil {
			db.Close() // closes the statements prepared
			return nil, fmt.Errorf("reading the progress database %s: %w", path, err)
		}
	}
	p.ops, p.done = make(chan progressOp, 1024), make(chan struct{})
	go p.record()
	return p, nil
}

// openBulkDB opens or creates a bulkloader database (what: "progress" or
// "result"), private to the user, with its schema, and checks its
// signature: a database written with other options refuses to resume.
func openBulkDB(ctx context.Context, path, what, schema, signature string) (*sql.DB, error) {
	if err := privfile.SQLite(path); err != nil {
		return nil, fmt.Errorf("opening the %s database: %w", what, err)
	}
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening the %s database %s: %w", what, path, err)
	}
	db.SetMaxOpenConns(1)
	if err := initBulkDB(ctx, db, path, what, schema, signature); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func initBulkDB(ctx context.Context, db *sql.DB, path, what, schema, signature string) error {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		if diskfull.Is(err, filepath.Dir(path)) {
			return writeErr("creating the "+what+" database", path, err)
		}
		return fmt.Errorf("the %s database %s: %w (is it a bulkloader %s database?)", what, path, err, what)
	}
	var have string
	err := db.QueryRowContext(ctx, `SELECT value FROM bulkloader_database_signature`).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = db.ExecContext(ctx, `INSERT INTO bulkloader_database_signature (value) VALUES (?)`, signature)
		if err != nil {
			return writeErr("writing the "+what+" database", path, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading the %s database %s: %w", what, path, err)
	case have != signature:
		return &SignatureError{Path: path, What: what, Have: have, Want: signature}
	}
	return nil
}

// writeErr words a failed write to the bulkloader database at path (doing:
// "recording progress in"); on a full disk, a *DiskFullError.
func writeErr(doing, path string, err error) error {
	if diskfull.Is(err, filepath.Dir(path)) {
		return &DiskFullError{Doing: doing, Path: path, Err: err}
	}
	return fmt.Errorf("%s %s: %w", doing, path, err)
}

// DiskFullError is a write to a progress or result database that failed
// because its disk is full. It matches syscall.ENOSPC with errors.Is.
type DiskFullError struct {
	Doing string // what was being written, "recording progress in"
	Path  string // the database
	Err   error  // SQLite's error
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("%s %s: no space left on device: free some space on the disk holding %s, "+
		"then run the same command again: it resumes where this run stopped (%v)", e.Doing, e.Path, filepath.Dir(e.Path), e.Err)
}

func (e *DiskFullError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, syscall.ENOSPC) true, as for the local store's
// full disk.
func (e *DiskFullError) Is(target error) bool { return target == syscall.ENOSPC }

// SignatureError is a progress or result database written by a run with
// other options.
type SignatureError struct{ Path, What, Have, Want string }

func (e *SignatureError) Error() string {
	flag := "--db_filename"
	if e.What == "result" {
		flag = "--result_db_filename"
	}
	return fmt.Sprintf("Database signature mismatch: the %s database %s was written by a run with other options, so it cannot resume this one.\n"+
		"It has:\n%s\nThis run has:\n%s\nRerun with the same options, or give another %s (or %s=skip) to start over.",
		e.What, e.Path, indent(e.Have), indent(e.Want), flag, flag)
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

// close writes out the queued records and closes the database, returning
// the first error writing them met.
func (p *progressDB) close() error {
	if p == nil {
		return nil
	}
	close(p.ops)
	<-p.done
	err := p.failure()
	for _, st := range p.stmts {
		st.Close() //nolint:errcheck // closing the database closes them anyway
	}
	if cerr := p.db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the progress database %s: %w", p.path, cerr)
	}
	return err
}

func (p *progressDB) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// progressLag is how long the recorder gathers records after the first
// before writing them: a bulk load reads and sends a batch every
// millisecond or so, and a transaction for every few of them (a commit,
// its log frames, its locks) was a fortieth of a load's CPU. close writes
// what is queued at once.
const progressLag = 20 * time.Millisecond

// record writes the queued records, whatever has queued within
// progressLag in one transaction. After an error it keeps taking records,
// so senders never block, and writes none.
func (p *progressDB) record() {
	defer close(p.done)
	var perr error
	defer func() {
		if perr != nil {
			// A bug: the loader sees it as the database's failure, and
			// nothing more is recorded.
			p.mu.Lock()
			p.err = perr
			p.mu.Unlock()
			for range p.ops {
			}
		}
	}()
	defer crash.Recover(&perr)
	for op := range p.ops {
		batch := []progressOp{op}
		wait := time.NewTimer(progressLag)
	more:
		for len(batch) < cap(p.ops) {
			select {
			case op, ok := <-p.ops:
				if !ok {
					break more
				}
				batch = append(batch, op)
			case <-wait.C:
				break more
			}
		}
		wait.Stop()
		if p.failure() != nil {
			continue
		}
		if err := p.write(batch); err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
		}
	}
}

// write applies records in one transaction. It runs on its own: the
// caller that queued a record may have been cancelled since.
func (p *progressDB) write(ops []progressOp) error {
	ctx := context.Background()
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return writeErr("recording progress in", p.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var inTx [len(progressSQL)]*sql.Stmt
	exec := func(which int, args ...any) error {
		if inTx[which] == nil {
			inTx[which] = tx.StmtContext(ctx, p.stmts[which])
		}
		_, err := inTx[which].ExecContext(ctx, args...)
		return err
	}
	for _, op := range ops {
		var err error
		switch op.op {
		case opAdd:
			err = exec(sqlAdd, op.id, stateRead, op.kind, op.start, op.end)
		case opState:
			err = exec(sqlState, op.state, op.id)
		case opFinish:
			if op.id != 0 {
				err = exec(sqlState, stateSent, op.id)
			}
			for _, n := range op.ok {
				if err == nil {
					err = exec(sqlClearFailed, n)
				}
			}
			for _, f := range op.failed {
				if err == nil {
					err = exec(sqlFailed, f.Record, f.Line, f.Err.Error())
				}
			}
		}
		if err != nil {
			return writeErr("recording progress in", p.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return writeErr("recording progress in", p.path, err)
	}
	return nil
}

// queue hands a record to the recorder, or returns its error.
func (p *progressDB) queue(ctx context.Context, op progressOp) error {
	if err := p.failure(); err != nil {
		return err
	}
	select {
	case p.ops <- op:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
	id := p.nextID
	p.nextID++
	p.mu.Unlock()
	return id, p.queue(ctx, progressOp{op: opAdd, id: id, kind: kind, start: start, end: end})
}

// setState records a batch's new state (id 0: a retry batch with no row).
func (p *progressDB) setState(ctx context.Context, id int64, state int) error {
	if p == nil || id == 0 {
		return nil
	}
	return p.queue(ctx, progressOp{op: opState, id: id, state: state})
}

// finish marks a batch sent and records its failed rows (clearing those of
// its records that now succeeded), in one transaction, so a crash leaves
// either the old or the new state.
func (p *progressDB) finish(ctx context.Context, id int64, ok []int, failed []RowError) error {
	if p == nil {
		return nil
	}
	return p.queue(ctx, progressOp{op: opFinish, id: id, ok: ok, failed: failed})
}

// allocatedIDs returns the ids recorded for records first..last.
func (p *progressDB) allocatedIDs(ctx context.Context, first, last int) (map[int]int64, error) {
	if p == nil {
		return nil, nil
	}
	rows, err := p.db.QueryContext(ctx, `SELECT record, id FROM allocated_ids WHERE record BETWEEN ? AND ?`, first, last)
	if err != nil {
		return nil, fmt.Errorf("reading the progress database %s: %w", p.path, err)
	}
	defer rows.Close()
	m := map[int]int64{}
	for rows.Next() {
		var rec int
		var id int64
		if err := rows.Scan(&rec, &id); err != nil {
			return nil, fmt.Errorf("reading the progress database %s: %w", p.path, err)
		}
		m[rec] = id
	}
	return m, rows.Err()
}

// lastAllocated returns the last record earlier runs allocated an id
// for, 0 when none.
func (p *progressDB) lastAllocated(ctx context.Context) (int, error) {
	if p == nil {
		return 0, nil
	}
	var last int
	if err := p.db.QueryRowContext(ctx, `SELECT coalesce(max(record), 0) FROM allocated_ids`).Scan(&last); err != nil {
		return 0, fmt.Errorf("reading the progress database %s: %w", p.path, err)
	}
	return last, nil
}

// saveIDs records allocated ids (record, id) before their entities are
// sent: unlike the other records it is written at once, not queued, since
// a send that ran ahead of it could be repeated under new ids.
func (p *progressDB) saveIDs(ctx context.Context, ids [][2]int64) error {
	if p == nil || len(ids) == 0 {
		return nil
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return writeErr("recording allocated ids in", p.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, r := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO allocated_ids (record, id) VALUES (?, ?)
		ON CONFLICT (record) DO UPDATE SET id = excluded.id`, r[0], r[1]); err != nil {
			return writeErr("recording allocated ids in", p.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return writeErr("recording allocated ids in", p.path, err)
	}
	return nil
}
