package local

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/appcfg/appcfg/backend"
)

var _ backend.Entities = (*Backend)(nil)

// maxQueryLimit bounds one QueryEntities page, so a caller's huge limit
// cannot make the store hold a whole kind in memory.
const maxQueryLimit = 10000

// PutEntities implements backend.Entities: it upserts the entities in one
// transaction, allocating ids for incomplete keys.
func (b *Backend) PutEntities(ctx context.Context, app string, ents []backend.Entity) ([]backend.Key, error) {
	keys, err := b.PutEntityBatches(ctx, app, [][]backend.Entity{ents})
	if err != nil {
		return nil, err
	}
	return keys[0], nil
}

var (
	_ backend.CheckedEntityBatchPutter = (*Backend)(nil)
	_ backend.EntityEncoder            = (*Backend)(nil)
	_ backend.IDAllocator              = (*Backend)(nil)
)

// AllocateIDs implements backend.IDAllocator: the app's id allocator moves
// past n ids in one transaction, as storing incomplete keys moves it.
func (b *Backend) AllocateIDs(ctx context.Context, app string, key backend.Key, n int) ([]backend.Key, error) {
	if err := checkName("application id", app); err != nil {
		return nil, err
	}
	if err := backend.CheckKey(&key, true); err != nil {
		return nil, err
	}
	if last := key.Path[len(key.Path)-1]; last.ID != 0 || last.Name != "" || n < 1 || n > backend.MaxEntityBatch {
		return nil, fmt.Errorf("allocating ids: give an incomplete key and 1 to %d ids", backend.MaxEntityBatch)
	}
	var first int64
	err := b.update(ctx, "allocating ids", func(tx *sql.Tx) error {
		idTx := sqlIDTx{ctx, tx}
		a, err := b.entities.loadAppIDs(ctx, idTx, app)
		if err != nil {
			return err
		}
		first = a.next
		return dbErrIf(ctx, "allocating ids", idTx.exec(raiseNextIDSQL, a.id, first+int64(n)))
	})
	if err != nil {
		return nil, err
	}
	keys := make([]backend.Key, n)
	for i := range keys {
		k := cloneKey(key)
		k.Path[len(k.Path)-1].ID = first + int64(i)
		keys[i] = k
	}
	return keys, nil
}

// PutEntityBatches implements backend.EntityBatchPutter: the batches go to
// the committer together, so they share one transaction.
func (b *Backend) PutEntityBatches(ctx context.Context, app string, batches [][]backend.Entity) ([][]backend.Key, error) {
	return b.putEntityBatches(ctx, app, batches, true)
}

// PutCheckedEntityBatches implements backend.CheckedEntityBatchPutter.
func (b *Backend) PutCheckedEntityBatches(ctx context.Context, app string, batches [][]backend.Entity) ([][]backend.Key, error) {
	return b.putEntityBatches(ctx, app, batches, false)
}

// EncodeEntities implements backend.EntityEncoder: the batch's rows,
// encoded as PutCheckedEntityBatches encodes them, ready for the committer.
func (b *Backend) EncodeEntities(ents []backend.Entity) (backend.EncodedEntities, error) {
	if err := checkEntities(ents, false); err != nil {
		return nil, err
	}
	// Appended entities grow it: a recycled one has the room of the
	// batches it held.
	p := b.entities.prepared.get(len(ents))
	p.prepare(ents)
	return &encodedBatch{b: b, p: p}, nil
}

// PutEncodedEntityBatches implements backend.EntityEncoder.
func (b *Backend) PutEncodedEntityBatches(ctx context.Context, app string, batches []backend.EncodedEntities) ([][]backend.Key, error) {
	if err := checkName("application id", app); err != nil {
		return nil, err
	}
	if len(batches) == 0 {
		return nil, nil
	}
	rows := make([][]entityRow, len(batches))
	for i, eb := range batches {
		e, ok := eb.(*encodedBatch)
		if !ok || e.b != b || e.p == nil {
			return nil, fmt.Errorf("storing entities: batch %d was not encoded by this store, or was released", i+1)
		}
		rows[i] = e.p.rows
	}
	return b.entities.write(ctx, b, app, rows)
}

// encodedBatch is a backend.EncodedEntities of this store: its rows, owned
// by the caller until Release (insert gives an incomplete key its id
// again when the batch is sent again).
type encodedBatch struct {
	b *Backend
	p *prepared
}

func (e *encodedBatch) Len() int { return len(e.p.rows) }

func (e *encodedBatch) Append(ents []backend.Entity) error {
	if e.p == nil {
		return errors.New("storing entities: appending to a released batch")
	}
	if err := checkBatchLen(len(e.p.rows) + len(ents)); err != nil {
		return err
	}
	e.p.prepare(ents)
	return nil
}

func (e *encodedBatch) Release() {
	if e.p != nil {
		e.b.entities.prepared.put(e.p)
		e.p = nil
	}
}

// putEntityBatches stores the batches, checking each entity against
// Datastore's limits when check is set (the caller has not).
func (b *Backend) putEntityBatches(ctx context.Context, app string, batches [][]backend.Entity, check bool) ([][]backend.Key, error) {
	if err := checkName("application id", app); err != nil {
		return nil, err
	}
	if len(batches) == 0 {
		return nil, nil
	}
	for _, ents := range batches {
		if err := checkEntities(ents, check); err != nil {
			return nil, err
		}
	}
	ps := make([]*prepared, len(batches))
	rows := make([][]entityRow, len(batches))
	for i, ents := range batches {
		ps[i] = b.entities.prepared.get(len(ents))
		ps[i].prepare(ents)
		rows[i] = ps[i].rows
	}
	keys, err := b.entities.write(ctx, b, app, rows)
	if err == nil || !errors.Is(err, ctx.Err()) {
		// A cancelled write may still be committing these rows.
		for _, p := range ps {
			b.entities.prepared.put(p)
		}
	}
	return keys, err
}

// checkEntities refuses a batch no Datastore would take: the local store
// keeps Datastore's limits (backend.CheckEntity), so that what loads here
// loads into App Engine too. each is false for entities the caller checked
// (backend.CheckedEntityBatchPutter): only the batch's size is checked.
func checkEntities(ents []backend.Entity, each bool) error {
	if err := checkBatchLen(len(ents)); err != nil {
		return err
	}
	if !each {
		return nil
	}
	for i := range ents {
		if err := backend.CheckEntity(&ents[i]); err != nil {
			return fmt.Errorf("entity %d of the batch: %w", i+1, err)
		}
	}
	return nil
}

// checkBatchLen refuses a batch of n entities over backend.MaxEntityBatch.
func checkBatchLen(n int) error {
	if n > backend.MaxEntityBatch {
		return fmt.Errorf("storing %d entities at once: at most %d per call", n, backend.MaxEntityBatch)
	}
	return nil
}

// preparedPool recycles the rows and encoding buffer of PutEntities calls:
// allocating them for every call was a tenth of a bulk load's garbage.
type preparedPool struct{ p sync.Pool }

type prepared struct {
	rows []entityRow
	buf  []byte
}

// get returns an empty prepared with room for n rows.
func (pp *preparedPool) get(n int) *prepared {
	p, ok := pp.p.Get().(*prepared)
	if !ok {
		p = &prepared{}
	}
	if cap(p.rows) < n {
		p.rows = make([]entityRow, 0, n)
	}
	if cap(p.buf) < 128*n {
		p.buf = make([]byte, 0, 128*n)
	}
	p.rows, p.buf = p.rows[:0], p.buf[:0]
	return p
}

func (pp *preparedPool) put(p *prepared) {
	clear(p.rows) // drop references to the caller's keys and entities
	pp.p.Put(p)
}

// entityRow is one entity ready to store. Complete keys are encoded by the
// calling goroutine, before the write queues for the shared transaction:
// the encoding then runs in parallel across a load's writers instead of
// inside the one transaction they all wait for.
// The properties are encoded at once, whatever the key (the codec leaves
// the key out), so a row refers to none of its entity's property maps.
type entityRow struct {
	key        backend.Key // complete, or incomplete until insert allocates its id
	order      []byte      // keyOrder(key); made by insert while the key is incomplete
	data       []byte      // encodeEntity
	incomplete bool        // the key had no id nor name: insert gives it one, each time it runs
	maxPathID  int64
}

// prepare adds ents' rows after those p holds.
func (p *prepared) prepare(ents []backend.Entity) {
	n := len(p.rows)
	p.rows = append(p.rows, make([]entityRow, len(ents))...)
	rows := p.rows[n:]
	// One buffer holds every row's encodings: two allocations per entity
	// were a tenth of a bulk load. Each row keeps a capped slice of it, so
	// a later append that moves the buffer leaves earlier rows intact.
	buf := p.buf
	for i, e := range ents {
		r := &rows[i]
		r.key = *e.Key
		for _, pe := range r.key.Path {
			r.maxPathID = max(r.maxPathID, pe.ID)
		}
		last := r.key.Path[len(r.key.Path)-1]
		if last.ID == 0 && last.Name == "" {
			// insert gives it an id, in its own copy of the path.
			r.key = cloneKey(r.key)
			r.incomplete = true
		} else {
			// Complete keys are never changed, so they share the caller's path.
			start := len(buf)
			buf = appendKeyOrder(buf, r.key)
			r.order = buf[start:len(buf):len(buf)]
		}
		start := len(buf)
		buf = encodeEntity(buf, e)
		r.data = buf[start:len(buf):len(buf)]
	}
	p.buf = buf
}

// entityWrite is one PutEntityBatches call waiting to be committed: its
// batches' rows, and their keys once stored.
type entityWrite struct {
	app     string
	batches [][]entityRow
	keys    [][]backend.Key
	done    chan error
}

// entityCommitter batches concurrent PutEntities calls into one transaction:
// a bulk load runs several writers, and each commit costs an fsync, so
// sharing them cuts a load's commits by the number of writers. The first
// caller to arrive commits for everyone queued behind it; each call still
// returns only once its entities are durable.
type entityCommitter struct {
	mu       sync.Mutex
	pending  []*entityWrite
	flushing bool

	// conn is the committer's own connection (see rawConn), set as
	// onCommitterConn says and kept from its first commit until the
	// store closes (only the flushing caller uses it). A connection
	// taken from the pool for each commit was often another than the
	// last, one that had not seen the last commits: SQLite then threw
	// its whole page cache away at the transaction's start
	// (pager_reset), freeing every page to modernc's allocator, which
	// hands them back to the kernel, and read and faulted them in
	// again: a twentieth of a bulk load's CPU. connMu is held by the
	// commit using it, so that closing the store waits for that commit
	// (a caller whose context ended returns before the commit it rides
	// on ends).
	connMu sync.Mutex
	conn   *rawConn
	// fullSQL is the upsert of MaxEntityBatch rows, which conn keeps
	// prepared (see insert).
	fullSQL string
	// blobs and rowKeys are insert's buffers, reused by each commit (the
	// flushing caller alone uses them).
	blobs   [][]byte
	rowKeys []byte

	ckpt checkpointer
	wal  walSyncer

	prepared preparedPool

	// appIDs caches apps' row ids: apps are never deleted, and looking
	// one up in every commit took a tenth of a bulk load's writer. kinds
	// caches the kinds entity_kinds lists, for the same reason.
	appMu  sync.Mutex
	appIDs map[string]int64
	kinds  map[kindKey]bool
}

func (c *entityCommitter) write(ctx context.Context, b *Backend, app string, batches [][]entityRow) ([][]backend.Key, error) {
	w := &entityWrite{app: app, batches: batches, done: make(chan error, 1)}
	c.mu.Lock()
	c.pending = append(c.pending, w)
	if c.flushing {
		c.mu.Unlock()
		select {
		case err := <-w.done:
			if err != nil {
				return nil, err
			}
			return w.keys, nil
		case <-ctx.Done():
			// The write may still commit, which a caller must allow for
			// anyway: upserts of complete keys are idempotent.
			return nil, fmt.Errorf("storing entities of %s: %w", app, ctx.Err())
		}
	}
	c.flushing = true
	for len(c.pending) > 0 {
		batch := c.pending
		c.pending = nil
		c.mu.Unlock()
		// Others' writes ride on this commit, so this caller's
		// cancellation must not fail them.
		if err := c.flush(context.WithoutCancel(ctx), b, batch); err != nil {
			for _, bw := range batch {
				bw.done <- err
			}
		} else {
			c.wal.syncThenDone(b, batch)
		}
		c.mu.Lock()
	}
	c.flushing = false
	c.mu.Unlock()
	if err := <-w.done; err != nil {
		return nil, err
	}
	return w.keys, nil
}

func (c *entityCommitter) flush(ctx context.Context, b *Backend, batch []*entityWrite) error {
	apps := map[string]*appIDs{}
	written := 0
	what := fmt.Sprintf("storing entities (%d batch(es))", len(batch))
	err := c.onCommitterConn(ctx, b, what, func(conn *rawConn) error {
		if err := conn.exec(`BEGIN IMMEDIATE`); err != nil {
			return dbErr(ctx, what, err)
		}
		if err := c.store(ctx, conn, batch, apps, &written); err != nil {
			conn.exec(`ROLLBACK`) //nolint:errcheck // the connection is dropped after an error anyway
			return err
		}
		if err := conn.exec(`COMMIT`); err != nil {
			conn.exec(`ROLLBACK`) //nolint:errcheck // as above
			return dbErr(ctx, what, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.checkpointSoon(b, written)
	// Only committed app rows are cached: a rolled-back one may come back
	// with another id.
	c.appMu.Lock()
	defer c.appMu.Unlock()
	if c.appIDs == nil {
		c.appIDs = map[string]int64{}
	}
	if c.kinds == nil {
		c.kinds = map[kindKey]bool{}
	}
	for app, a := range apps {
		c.appIDs[app] = a.id
		for nk := range a.kinds {
			c.kinds[kindKey{a.id, nk}] = true
		}
	}
	return nil
}

// store writes the batches' rows in tx, filling apps with the apps they
// belong to and adding the bytes of their rows to *written.
func (c *entityCommitter) store(ctx context.Context, tx *rawConn, batch []*entityWrite, apps map[string]*appIDs, written *int) error {
	// The id allocator is read and written once per app and
	// transaction, not once per call.
	for _, w := range batch {
		a := apps[w.app]
		if a == nil {
			var err error
			if a, err = c.loadAppIDs(ctx, tx, w.app); err != nil {
				return err
			}
			apps[w.app] = a
		}
		w.keys = make([][]backend.Key, len(w.batches))
		for i, rows := range w.batches {
			keys, err := c.insert(ctx, tx, a, rows)
			if err != nil {
				return err
			}
			w.keys[i] = keys
			for j := range rows {
				*written += len(rows[j].order) + len(rows[j].data)
			}
		}
	}
	for _, a := range apps {
		if next := a.next; next > a.loaded {
			if next == a.maxComplete && next < math.MaxInt64-next/8 {
				// Moved by stored ids, not by allocations:
				// reserve an eighth ahead, so a load storing
				// rising ids writes this row in a few commits
				// rather than in every one. Allocated ids need
				// only be above every stored one (gaps are
				// allowed, as on Datastore).
				next += next / 8
			}
			if err := tx.exec(raiseNextIDSQL, a.id, next); err != nil {
				return dbErr(ctx, "recording allocated ids", err)
			}
		}
		for nk := range a.kinds {
			if c.knownKind(a.id, nk) {
				continue
			}
			if err := tx.exec(`INSERT INTO entity_kinds (app_id, namespace, kind) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, a.id, nk[0], nk[1]); err != nil {
				return dbErr(ctx, "recording the kinds stored", err)
			}
		}
	}
	return nil
}

// The committer's connection. Every writer of a bulk load waits for the
// one committer, so what its commits wait for is what a load waits for.
//
// Syncs: a commit at synchronous=FULL fsyncs the write-ahead log before it
// returns, a wait of a millisecond or more in which no other batch is
// written. The committer commits at synchronous=NORMAL instead (the commit
// is in the log, which survives a crash of the process, and SQLite replays
// it on the next open) and hands the batch to walSyncer, which fsyncs the
// log and only then releases the batch's callers, while the committer
// writes the next batch: a call still returns only once its entities are
// on disk, as a FULL commit would, and the syncs overlap the writing. An
// fsync covers every commit before it, so one sync releases every batch
// waiting.
//
// Checkpoints: a commit that makes the log pass wal_autocheckpoint pages
// (1,000 by default) copies the log into the database file before it
// returns: the copy, its reads and its two fsyncs were a tenth of a load's
// time in the committer. Its commits run with the automatic checkpoint off,
// and a checkpoint of its own (PASSIVE: it never waits for a lock, nor
// makes a writer wait) runs beside the next commits once about as much has
// been written, so the log stays about as short as it was. It is a
// checkpoint like any other: it syncs the log before copying it and the
// database file after, so nothing committed depends on the log's sync
// after a checkpoint let a writer start the log over.

// checkpointBytes is how much the committer writes between its checkpoints:
// about wal_autocheckpoint's 1,000 pages of 4 KiB.
const checkpointBytes = 4 << 20

// checkpointer runs the committer's checkpoints, one at a time.
type checkpointer struct {
	mu      sync.Mutex
	written int  // bytes of rows committed since the last checkpoint began
	running bool // a checkpoint is under way
	done    sync.WaitGroup
}

// onCommitterConn runs fn on the committer's connection, opened and set
// as the committer needs it (see above) on first use, and kept for the
// next commits; after an error it is closed, and the next commit opens
// another. A store opened with exclusive locking (its disk was full, see
// openDB) admits no second connection: its entity writes fail as its
// other writes do, with a *NoSpaceError.
func (c *entityCommitter) onCommitterConn(ctx context.Context, b *Backend, what string, fn func(conn *rawConn) error) error {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.conn == nil {
		if b.exclusive {
			return &NoSpaceError{Op: what, Path: b.root, Err: syscall.ENOSPC}
		}
		conn, err := openRawConn(filepath.Join(b.root, dbName))
		if err != nil {
			return b.noSpace(what, dbErr(ctx, what, err))
		}
		for _, pragma := range []string{`PRAGMA synchronous = NORMAL`, `PRAGMA wal_autocheckpoint = 0`} {
			if err := conn.exec(pragma); err != nil {
				conn.close() //nolint:errcheck // the error that matters is err
				return dbErr(ctx, what, err)
			}
		}
		c.conn = conn
	}
	err := fn(c.conn)
	if err != nil {
		c.closeConn()
	}
	return b.noSpace(what, err)
}

// closeConn closes the committer's connection, if open.
func (c *entityCommitter) closeConn() {
	if c.conn != nil {
		c.conn.close() //nolint:errcheck // nothing is left uncommitted on it
		c.conn = nil
	}
}

// walSyncer releases committed batches once the log holding them is synced.
type walSyncer struct {
	mu      sync.Mutex
	waiting []*entityWrite // committed, not yet synced
	running bool           // a goroutine is syncing
	done    sync.WaitGroup
}

// syncThenDone queues committed writes, to be released after a sync of the
// write-ahead log, starting the syncing goroutine unless it runs already.
func (s *walSyncer) syncThenDone(b *Backend, ws []*entityWrite) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting = append(s.waiting, ws...)
	if s.running {
		return
	}
	s.running = true
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		for {
			s.mu.Lock()
			ws := s.waiting
			s.waiting = nil
			if len(ws) == 0 {
				s.running = false
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			err := syncLog(filepath.Join(b.root, dbName+"-wal"))
			if err != nil {
				err = fmt.Errorf("storing entities: syncing the database's log to disk: %w", err)
			}
			b.step("sync entities")
			for _, w := range ws {
				w.done <- err
			}
		}
	}()
}

// checkpointSoon counts written bytes just committed and, past
// checkpointBytes, starts a checkpoint unless one is under way.
func (c *entityCommitter) checkpointSoon(b *Backend, written int) {
	k := &c.ckpt
	k.mu.Lock()
	defer k.mu.Unlock()
	k.written += written
	if k.running || k.written < checkpointBytes {
		return
	}
	k.running, k.written = true, 0
	k.done.Add(1)
	go func() {
		defer k.done.Done()
		defer func() {
			k.mu.Lock()
			k.running = false
			k.mu.Unlock()
		}()
		// An error leaves the log to the next checkpoint (this one's, or
		// any connection's automatic one, or the last close's).
		b.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`) //nolint:errcheck // see above
	}()
}

// syncLog syncs the write-ahead log's data; a log gone (checkpointed away
// and removed by the last connection's close, which synced the database
// file) has nothing left to sync.
func syncLog(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0) // writable: Windows syncs no read-only handle
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return syncData(f)
}

// wait waits for a checkpoint and a sync under way, before the database
// closes.
func (c *entityCommitter) wait() {
	c.wal.done.Wait()
	c.ckpt.done.Wait()
}

// kindKey names a kind of an app's namespace.
type kindKey struct {
	app int64
	nk  [2]string // namespace, kind
}

// knownKind reports whether entity_kinds is known to list the kind:
// kinds are never removed, so once committed it stays.
func (c *entityCommitter) knownKind(app int64, nk [2]string) bool {
	c.appMu.Lock()
	defer c.appMu.Unlock()
	return c.kinds[kindKey{app, nk}]
}

// appIDs is an app's row id, its next id to allocate as read and as moved
// within one transaction, and the (namespace, kind) pairs it stored.
type appIDs struct {
	id          int64
	loaded      int64
	next        int64
	maxComplete int64 // above every id of the complete keys stored
	kinds       map[[2]string]bool
}

func (c *entityCommitter) loadAppIDs(ctx context.Context, tx idTx, app string) (*appIDs, error) {
	c.appMu.Lock()
	appID, ok := c.appIDs[app]
	c.appMu.Unlock()
	if !ok {
		var err error
		if appID, err = tx.queryInt(ensureAppSQL, app); err != nil {
			return nil, dbErr(ctx, "recording app "+app, err)
		}
	}
	a := &appIDs{id: appID, next: 1, kinds: map[[2]string]bool{}}
	next, err := tx.queryInt(`SELECT next FROM entity_ids WHERE app_id = ?`, appID)
	switch {
	case err == nil:
		a.next = next
	case !errors.Is(err, errNoRow):
		return nil, dbErr(ctx, "reading the id allocator", err)
	}
	a.loaded = a.next
	return a, nil
}

// raiseNextIDSQL moves an app's id allocator up to at least its second
// argument.
const raiseNextIDSQL = `INSERT INTO entity_ids (app_id, next) VALUES (?, ?)
		ON CONFLICT (app_id) DO UPDATE SET next = max(next, excluded.next)`

// idTx is what the id allocator needs of a transaction: the committer's
// connection (rawConn), or a pool's transaction (sqlIDTx). queryInt
// returns errNoRow when the query returned no row.
type idTx interface {
	queryInt(query string, args ...any) (int64, error)
	exec(query string, args ...any) error
}

// sqlIDTx is a database/sql transaction as an idTx.
type sqlIDTx struct {
	ctx context.Context
	tx  *sql.Tx
}

func (t sqlIDTx) queryInt(query string, args ...any) (int64, error) {
	var v int64
	err := t.tx.QueryRowContext(t.ctx, query, args...).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = errNoRow
	}
	return v, err
}

func (t sqlIDTx) exec(query string, args ...any) error {
	_, err := t.tx.ExecContext(t.ctx, query, args...)
	return err
}

// insert stores one call's entities in the committer's transaction on
// conn, allocating ids for incomplete keys, and returns their complete
// keys.
func (c *entityCommitter) insert(ctx context.Context, conn *rawConn, a *appIDs, rows []entityRow) ([]backend.Key, error) {
	keys := make([]backend.Key, len(rows))
	// One multi-row INSERT per call: per-statement overhead, not SQLite's
	// b-tree work, dominated bulk loads row by row. Row keys share one
	// buffer; a load's rows share one prefix, encoded once.
	blobs := c.blobs[:0]
	buf := c.rowKeys[:0]
	if cap(buf) < 48*len(rows) {
		buf = make([]byte, 0, 48*len(rows))
	}
	var prefix []byte
	var prefixNS, prefixKind string
	for i := range rows {
		r := &rows[i]
		k := r.key
		last := &k.Path[len(k.Path)-1]
		if r.incomplete {
			// The key is this row's own copy (see prepared.prepare), so
			// giving it its id is safe; a transaction run again (or an
			// encoded batch sent again) gives it another.
			last.ID = a.next
			a.next++
			r.order = keyOrder(k)
		}
		a.next = max(a.next, r.maxPathID+1)
		a.maxComplete = max(a.maxComplete, r.maxPathID+1)
		if prefix == nil || k.Namespace != prefixNS || last.Kind != prefixKind {
			prefix, prefixNS, prefixKind = appendEntityPrefix(prefix[:0], a.id, last.Kind, k.Namespace), k.Namespace, last.Kind
			a.kinds[[2]string{k.Namespace, last.Kind}] = true
		}
		start := len(buf)
		buf = append(buf, prefix...)
		buf = append(buf, r.order...)
		blobs = append(blobs, buf[start:len(buf):len(buf)], r.data)
		keys[i] = k
	}
	// A full batch's upsert is kept prepared: parsing a statement of
	// 1,000 parameters for every batch cost a fifth of a load. A batch of
	// another size (a load's last) is prepared for itself alone.
	var err error
	switch {
	case len(rows) == backend.MaxEntityBatch:
		if c.fullSQL == "" {
			c.fullSQL = insertEntitiesSQL(backend.MaxEntityBatch)
		}
		err = conn.execBlobs(c.fullSQL, true, blobs)
	case len(rows) > 0:
		err = conn.execBlobs(insertEntitiesSQL(len(rows)), false, blobs)
	}
	// conn copied the blobs: the buffers are free again.
	clear(blobs)
	c.blobs, c.rowKeys = blobs[:0], buf[:0]
	if err != nil {
		return nil, dbErrIf(ctx, "storing entities", err)
	}
	return keys, nil
}

// closeStmts closes the committer's connection, with its prepared
// statements, after the commit under way if any.
func (c *entityCommitter) closeStmts() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	c.closeConn()
}

// insertEntitiesSQL is the upsert of n entities in one statement (n ≤
// MaxEntityBatch keeps it under SQLite's 32766 bound parameters).
func insertEntitiesSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO entities (k, data) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?)")
	}
	b.WriteString(" ON CONFLICT (k) DO UPDATE SET data = excluded.data")
	return b.String()
}

// QueryEntities implements backend.Entities.
func (b *Backend) QueryEntities(ctx context.Context, app string, q backend.EntityQuery, cursor string, limit int) ([]backend.Entity, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("querying kind %s: limit %d is not positive", q.Kind, limit)
	}
	limit = min(limit, maxQueryLimit)
	after, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("querying kind %s: the cursor %q is not one this store returned", q.Kind, cursor)
	}
	appID, err := lookupApp(ctx, b.db, app)
	if errors.Is(err, backend.ErrNotFound) {
		return nil, "", nil // an app with no entities yet
	}
	if err != nil {
		return nil, "", err
	}
	// The cursor is the last key's path part (keyOrder), so cursors do not
	// depend on how the store lays out its rows.
	prefix := appendEntityPrefix(nil, appID, q.Kind, q.Namespace)
	rows, err := b.db.QueryContext(ctx, `SELECT k, data FROM entities WHERE k > ? AND k < ? ORDER BY k LIMIT ?`,
		append(prefix[:len(prefix):len(prefix)], after...), prefixEnd(prefix), limit+1)
	if err != nil {
		return nil, "", dbErr(ctx, "querying kind "+q.Kind, err)
	}
	defer rows.Close()
	var out []backend.Entity
	var lastKey []byte
	more := false
	for rows.Next() {
		if len(out) == limit {
			more = true
			break
		}
		var key, data []byte
		if err := rows.Scan(&key, &data); err != nil {
			return nil, "", dbErr(ctx, "reading kind "+q.Kind, err)
		}
		e, err := decodeEntity(key, data)
		if err != nil {
			return nil, "", fmt.Errorf("reading an entity of kind %s from %s: %w", q.Kind, b.root, err)
		}
		out = append(out, e)
		lastKey = key[len(prefix):]
	}
	if err := rows.Err(); err != nil {
		return nil, "", dbErr(ctx, "reading kind "+q.Kind, err)
	}
	next := ""
	if more {
		next = base64.RawURLEncoding.EncodeToString(lastKey)
	}
	return out, next, nil
}

// Kinds implements backend.Entities.
func (b *Backend) Kinds(ctx context.Context, app, namespace string) ([]string, error) {
	appID, err := lookupApp(ctx, b.db, app)
	if errors.Is(err, backend.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := b.db.QueryContext(ctx, `SELECT kind FROM entity_kinds WHERE app_id = ? AND namespace = ? ORDER BY kind`, appID, namespace)
	if err != nil {
		return nil, dbErr(ctx, "listing kinds", err)
	}
	defer rows.Close()
	var kinds []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, dbErr(ctx, "listing kinds", err)
		}
		kinds = append(kinds, k)
	}
	return kinds, dbErrIf(ctx, "listing kinds", rows.Err())
}

func dbErrIf(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	return dbErr(ctx, what, err)
}

func cloneKey(k backend.Key) backend.Key {
	k.Path = append([]backend.PathElement(nil), k.Path...)
	return k
}

// keyOrder encodes a key's path so that byte order is Datastore's key order:
// element by element, kind first, then ids (numerically) before names
// (bytewise), a path before its descendants. NUL bytes inside strings are
// escaped as 00 FF so the 00 01 / 00 02 separators stay unambiguous.
func keyOrder(k backend.Key) []byte {
	return appendKeyOrder(nil, k)
}

func appendKeyOrder(b []byte, k backend.Key) []byte {
	for i, pe := range k.Path {
		if i > 0 {
			b = append(b, 0, 1)
		}
		b = appendEscaped(b, pe.Kind)
		b = append(b, 0, 2)
		if pe.Name != "" {
			b = append(b, 2)
			b = appendEscaped(b, pe.Name)
		} else {
			b = append(b, 1)
			b = binary.BigEndian.AppendUint64(b, uint64(pe.ID))
		}
	}
	return b
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = append(b, s[i])
		if s[i] == 0 {
			b = append(b, 0xFF)
		}
	}
	return b
}

// The entity codec: a compact binary form that keeps every value exactly
// (NaN and infinite doubles, nanosecond timestamps, empty blobs, nested
// entities), which JSON would not. Version 2 leaves out a stored entity's
// own key, which its row key holds (a fifth of a small entity's bytes,
// and bytes are pages a bulk load writes); version 1 rows, which carry
// it, are still read.
const (
	codecVersion   = 2
	codecWithKeyV1 = 1
)

// encodeEntity encodes a stored entity's properties (version 2).
func encodeEntity(b []byte, e backend.Entity) []byte {
	b = append(b, codecVersion)
	return appendProps(b, e.Properties)
}

// appendEntity encodes an entity with its key: embedded entities, and
// version 1's stored ones.
func appendEntity(b []byte, e backend.Entity) []byte {
	if e.Key == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = appendKey(b, *e.Key)
	}
	return appendProps(b, e.Properties)
}

func appendProps(b []byte, m map[string]backend.Value) []byte {
	e := backend.Entity{Properties: m}
	// Most entities have a handful of properties: they fit on the stack,
	// sorted by insertion, without a lookup per property.
	if len(e.Properties) <= maxSmallEntity {
		var props [maxSmallEntity]struct {
			name string
			v    *backend.Value
		}
		var vals [maxSmallEntity]backend.Value
		n := 0
		for name, v := range e.Properties {
			vals[n] = v
			props[n].name, props[n].v = name, &vals[n]
			for j := n; j > 0 && props[j].name < props[j-1].name; j-- {
				props[j], props[j-1] = props[j-1], props[j]
			}
			n++
		}
		b = binary.AppendUvarint(b, uint64(n))
		for _, p := range props[:n] {
			b = appendString(b, p.name)
			b = appendValue(b, *p.v)
		}
		return b
	}
	names := make([]string, 0, len(e.Properties))
	for n := range e.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = appendString(b, n)
		b = appendValue(b, e.Properties[n])
	}
	return b
}

// maxSmallEntity is the most properties appendEntity orders on the stack.
const maxSmallEntity = 16

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendKey(b []byte, k backend.Key) []byte {
	b = appendString(b, k.Namespace)
	b = binary.AppendUvarint(b, uint64(len(k.Path)))
	for _, pe := range k.Path {
		b = appendString(b, pe.Kind)
		b = binary.AppendVarint(b, pe.ID)
		b = appendString(b, pe.Name)
	}
	return b
}

// Value type tags of the codec. Never renumber: stored data uses them.
var typeTags = map[backend.ValueType]byte{
	backend.NullType: 1, backend.BoolType: 2, backend.IntType: 3, backend.DoubleType: 4,
	backend.TimestampType: 5, backend.KeyType: 6, backend.StringType: 7, backend.BlobType: 8,
	backend.GeoPointType: 9, backend.ArrayType: 10, backend.EntityType: 11,
}

// typeTag is typeTags[t] without a map lookup per value (null for the
// zero or an unknown type).
func typeTag(t backend.ValueType) byte {
	switch t {
	case backend.StringType:
		return 7
	case backend.IntType:
		return 3
	case backend.DoubleType:
		return 4
	case backend.BoolType:
		return 2
	case backend.TimestampType:
		return 5
	case backend.KeyType:
		return 6
	case backend.BlobType:
		return 8
	case backend.GeoPointType:
		return 9
	case backend.ArrayType:
		return 10
	case backend.EntityType:
		return 11
	}
	return nullTag
}

// nullTag is typeTags[backend.NullType].
const nullTag = 1

var tagTypes = func() map[byte]backend.ValueType {
	m := make(map[byte]backend.ValueType, len(typeTags))
	for t, tag := range typeTags {
		m[tag] = t
	}
	return m
}()

func appendValue(b []byte, v backend.Value) []byte {
	// The zero Value is a null; unknown types were refused by checkValue.
	tag := typeTag(v.Type)
	flags := byte(0)
	if v.ExcludeFromIndexes {
		flags = 1
	}
	b = append(b, tag, flags)
	switch v.Type {
	case backend.BoolType:
		if v.Bool {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case backend.IntType:
		b = binary.AppendVarint(b, v.Int)
	case backend.DoubleType:
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.Double))
	case backend.TimestampType:
		b = binary.AppendVarint(b, v.Time.Unix())
		b = binary.AppendUvarint(b, uint64(v.Time.Nanosecond()))
	case backend.KeyType:
		if v.Key == nil {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = appendKey(b, *v.Key)
		}
	case backend.StringType:
		b = appendString(b, v.String)
	case backend.BlobType:
		b = appendString(b, string(v.Blob))
	case backend.GeoPointType:
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.GeoPoint.Lat))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.GeoPoint.Lng))
	case backend.ArrayType:
		b = binary.AppendUvarint(b, uint64(len(v.Array)))
		for _, e := range v.Array {
			b = appendValue(b, e)
		}
	case backend.EntityType:
		if v.Entity == nil {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = appendEntity(b, *v.Entity)
		}
	}
	return b
}

// decoder reads the codec, failing (not panicking) on truncated data.
type decoder struct {
	b   []byte
	err error
}

// errCorrupt is a stored entity's data that is not what the codec writes
// (decodeEntity says what to do about it).
var errCorrupt = errors.New("its data is not what appcfg writes")

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// skip consumes the n bytes a varint read took; n <= 0 means it failed.
func (d *decoder) skip(n int) bool {
	if n <= 0 {
		d.fail()
		return false
	}
	d.b = d.b[n:]
	return true
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if !d.skip(n) {
		return 0
	}
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if !d.skip(n) {
		return 0
	}
	return v
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// count reads a length and checks it against the bytes left, so corrupt data
// cannot make the decoder allocate a huge slice.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

// decodeEntity decodes a stored entity; rowKey is its row's key (see
// appendEntityPrefix), which holds the key version 2 leaves out.
func decodeEntity(rowKey, data []byte) (backend.Entity, error) {
	d := &decoder{b: data}
	var e backend.Entity
	switch v := d.byte(); {
	case d.err != nil:
	case v == codecWithKeyV1:
		e = d.entity(0)
	case v == codecVersion:
		e.Properties = d.props(0)
		if d.err == nil {
			k, err := decodeRowKey(rowKey)
			if err != nil {
				return backend.Entity{}, damagedf("a stored entity is damaged: %v", err)
			}
			e.Key = &k
		}
	default:
		return backend.Entity{}, fmt.Errorf("stored entity has codec version %d, this appcfg reads %d: upgrade appcfg", v, codecVersion)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return backend.Entity{}, damagedf("a stored entity is damaged: %v", d.err)
	}
	return e, nil
}

// decodeRowKey reads an entity's key back from its row key: the prefix
// (app, kind, namespace), then the path as keyOrder wrote it.
func decodeRowKey(k []byte) (backend.Key, error) {
	bad := func() (backend.Key, error) {
		return backend.Key{}, errors.New("its key is not one appcfg writes")
	}
	if _, ok := rowKeyAppID(k); !ok {
		return bad()
	}
	p := 1 + int(k[0])
	var key backend.Key
	var ok bool
	if _, p, ok = unescapeTo(k, p, 0); !ok { // the kind, again in the path
		return bad()
	}
	var ns string
	if ns, p, ok = unescapeTo(k, p, 0); !ok {
		return bad()
	}
	key.Namespace = ns
	for p < len(k) {
		var pe backend.PathElement
		if pe.Kind, p, ok = unescapeTo(k, p, 2); !ok || p >= len(k) {
			return bad()
		}
		switch k[p] {
		case 1:
			if p+9 > len(k) {
				return bad()
			}
			pe.ID = int64(binary.BigEndian.Uint64(k[p+1 : p+9]))
			p += 9
		case 2:
			name, q, _ := unescapeTo(k, p+1, 1)
			pe.Name, p = name, q
		default:
			return bad()
		}
		key.Path = append(key.Path, pe)
		if p < len(k) {
			if p+2 > len(k) || k[p] != 0 || k[p+1] != 1 {
				return bad()
			}
			p += 2
		}
	}
	if len(key.Path) == 0 {
		return bad()
	}
	return key, nil
}

// unescapeTo reads an appendEscaped string from k at p up to the separator
// 00 sep, and returns it and the position after the separator (for sep 1,
// the separator between path elements, the position of the separator, or
// the end). ok is false when the separator is missing.
func unescapeTo(k []byte, p int, sep byte) (string, int, bool) {
	var out []byte
	for i := p; i < len(k); i++ {
		if k[i] != 0 {
			continue
		}
		if i+1 < len(k) && k[i+1] == 0xFF {
			out = append(append(out, k[p:i]...), 0)
			p = i + 2
			i++
			continue
		}
		if i+1 < len(k) && k[i+1] == sep {
			s := string(append(out, k[p:i]...))
			if sep == 1 {
				return s, i, true
			}
			return s, i + 2, true
		}
		return "", 0, false
	}
	if sep == 1 {
		return string(append(out, k[p:]...)), len(k), true
	}
	return "", 0, false
}

// maxDepth bounds nesting of arrays and embedded entities while decoding.
const maxDepth = 100

func (d *decoder) entity(depth int) backend.Entity {
	var e backend.Entity
	if depth > maxDepth {
		d.fail()
		return e
	}
	if d.byte() == 1 {
		k := d.key()
		e.Key = &k
	}
	e.Properties = d.props(depth)
	return e
}

func (d *decoder) props(depth int) map[string]backend.Value {
	n := d.count()
	props := make(map[string]backend.Value, n)
	for i := 0; i < n && d.err == nil; i++ {
		name := string(d.bytes())
		props[name] = d.value(depth + 1)
	}
	return props
}

func (d *decoder) key() backend.Key {
	var k backend.Key
	k.Namespace = string(d.bytes())
	n := d.count()
	k.Path = make([]backend.PathElement, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		pe := backend.PathElement{Kind: string(d.bytes())}
		pe.ID = d.varint()
		pe.Name = string(d.bytes())
		k.Path = append(k.Path, pe)
	}
	return k
}

func (d *decoder) value(depth int) backend.Value {
	var v backend.Value
	if depth > maxDepth {
		d.fail()
		return v
	}
	t, ok := tagTypes[d.byte()]
	if !ok {
		d.fail()
		return v
	}
	v.Type = t
	v.ExcludeFromIndexes = d.byte()&1 != 0
	switch t {
	case backend.BoolType:
		v.Bool = d.byte() == 1
	case backend.IntType:
		v.Int = d.varint()
	case backend.DoubleType:
		v.Double = math.Float64frombits(d.u64())
	case backend.TimestampType:
		sec := d.varint()
		v.Time = time.Unix(sec, int64(d.uvarint())).UTC()
	case backend.KeyType:
		if d.byte() == 1 {
			k := d.key()
			v.Key = &k
		}
	case backend.StringType:
		v.String = string(d.bytes())
	case backend.BlobType:
		v.Blob = append([]byte{}, d.bytes()...)
	case backend.GeoPointType:
		v.GeoPoint.Lat = math.Float64frombits(d.u64())
		v.GeoPoint.Lng = math.Float64frombits(d.u64())
	case backend.ArrayType:
		n := d.count()
		v.Array = make([]backend.Value, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			v.Array = append(v.Array, d.value(depth+1))
		}
	case backend.EntityType:
		if d.byte() == 1 {
			e := d.entity(depth + 1)
			v.Entity = &e
		}
	}
	return v
}
