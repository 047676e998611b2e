package local

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/appcfg/appcfg/internal/crash"
)

// prefetchMax bounds the blobs Prefetch stats: an app holding more (many
// versions' worth) would have most of them stat'ed for nothing, and its
// deploy stats what it names instead. Twice App Engine's file limit.
const prefetchMax = 20000

// prefetchFor is how long a check Prefetch started may serve a deploy's
// question: one not used by then (a deploy that stopped before asking)
// is started again, so a long-lived Backend never answers from old stats.
const prefetchFor = time.Minute

// prefetcher holds the background checks Prefetch started, one per app,
// until MissingBlobs or LiveAsIs takes one.
type prefetcher struct {
	mu     sync.Mutex
	apps   map[string]*prefetched
	wg     sync.WaitGroup
	stops  []context.CancelFunc
	closed bool
}

// prefetched is what one background check found, once done is closed.
type prefetched struct {
	done    chan struct{}
	started time.Time
	// counted is closed once the app's records are read (or could not
	// be); holds then says they were some: the app holds content.
	counted chan struct{}
	holds   bool
	mu      sync.Mutex // guards tx, conn and records
	// tx is the read-only transaction records were read in, kept open
	// for LiveAsIs to finish its one consistent read in, on conn (a
	// connection with a small page cache, see smallCache); records are
	// the app's blobs as tx reads them, in digest order, each ok when
	// its file was found in place with its size. All nil once used, or
	// when the check failed.
	tx      *sql.Tx
	conn    *smallCacheConn
	records []blobCheck
	// inPlace says which records' files were then in place with their
	// size; nil when the check failed or was cut short.
	inPlace *inPlace
}

// inPlace is what a Prefetch found of an app's blob files: those of its
// records (in digest order) that are ok. It shares them with the snapshot
// LiveAsIs takes, which only reads them.
type inPlace struct {
	records []blobCheck
}

// has reports whether the blob digest was found in place with size bytes
// (false for a nil *inPlace: nothing was seen).
func (p *inPlace) has(digest string, size int64) bool {
	if p == nil {
		return false
	}
	r := findRecord(p.records, digest)
	return r != nil && r.ok && r.size == size
}

// Prefetch implements backend.Prefetcher: it reads which blobs app holds
// and stats their files in the background, so that an unchanged
// redeploy's one stat per blob runs while the caller lists and hashes its
// files (on another core) instead of after. A check started for app less
// than prefetchFor ago and not yet used is not repeated. The first of
// LiveAsIs and MissingBlobs to ask uses it; the other reads and stats
// afresh.
//
// MissingBlobs and LiveAsIs still read the records themselves, in their
// own transaction, and trust a stat made here only for a blob whose record
// they read: the store removes a blob's file only with the last record of
// it (CollectBlobs, verify --repair), and writes a file again, durably,
// before recording it again, so a file found in place here is still in
// place while its record is. A file removed or truncated behind the
// store's back is caught as before, as long as that happened before this
// deploy began.
func (b *Backend) Prefetch(ctx context.Context, app string) {
	if checkName("application id", app) != nil {
		return // MissingBlobs words the error
	}
	p := &b.prefetch
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	now := time.Now()
	if old := p.apps[app]; old != nil {
		if now.Sub(old.started) < prefetchFor {
			return
		}
		go func() { <-old.done; old.endTx() }()
	}
	ctx, cancel := context.WithCancel(ctx)
	p.stops = append(p.stops, cancel)
	f := &prefetched{done: make(chan struct{}), started: now, counted: make(chan struct{})}
	if p.apps == nil {
		p.apps = map[string]*prefetched{}
	}
	p.apps[app] = f
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(f.done)
		counted := sync.OnceFunc(func() { close(f.counted) })
		defer counted()
		var err error
		defer crash.Recover(&err) // a failed check is only not used
		conn, err := smallCache(ctx, b.db, prefetchCachePages)
		if err != nil {
			return
		}
		tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			conn.release(ctx)
			return
		}
		records, err := appBlobs(ctx, tx, app, prefetchMax)
		f.holds = err == nil && len(records) > 0
		counted()
		if err != nil || records == nil {
			endSnapshot(tx, conn)
			return
		}
		// One goroutine (this one): it runs beside the caller's own
		// work, which has the other cores. The records, in digest
		// order, are grouped by directory as the stats want them.
		b.checkGrouped(ctx, records, 1)
		seen := &inPlace{records: records}
		if ctx.Err() != nil {
			endSnapshot(tx, conn)
			return
		}
		f.mu.Lock()
		f.tx, f.conn, f.records, f.inPlace = tx, conn, records, seen
		f.mu.Unlock()
	}()
}

// holdsContent reports what a check Prefetch started lately for app read
// of its records: known false when there is none, or when it read none
// (an unknown app, or more records than it reads); it waits for that read
// alone, not for the stats after it. IngestsFor asks it, so that a deploy
// does not open a second connection to the database (its schema read
// again: 40 fresh pages) while the check holds the first.
func (b *Backend) holdsContent(ctx context.Context, app string) (holds, known bool) {
	p := &b.prefetch
	p.mu.Lock()
	f := p.apps[app]
	p.mu.Unlock()
	if f == nil || time.Since(f.started) >= prefetchFor {
		return false, false
	}
	select {
	case <-f.counted:
		return f.holds, f.holds
	case <-ctx.Done():
		return false, false
	}
}

// takePrefetched waits for app's background check, if one was started
// lately, and returns it (nil if none, or when ctx ends first). It is
// forgotten: it serves one deploy's one question, so any later question
// stats again.
func (b *Backend) takePrefetched(ctx context.Context, app string) *prefetched {
	p := &b.prefetch
	p.mu.Lock()
	f := p.apps[app]
	delete(p.apps, app)
	p.mu.Unlock()
	if f == nil {
		return nil
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		go func() { <-f.done; f.endTx() }()
		return nil
	}
	if time.Since(f.started) >= prefetchFor {
		f.endTx()
		return nil
	}
	return f
}

// snapshot hands over, once, the check's open transaction and the
// records read in it, with end, which the caller calls when done with the
// transaction. A nil tx when there is none.
func (f *prefetched) snapshot() (tx *sql.Tx, records []blobCheck, end func()) {
	if f == nil {
		return nil, nil, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tx, records, conn := f.tx, f.records, f.conn
	f.tx, f.records, f.conn = nil, nil, nil
	if tx == nil {
		return nil, nil, nil
	}
	return tx, records, func() { endSnapshot(tx, conn) }
}

// endTx ends the check's transaction if no one took it.
func (f *prefetched) endTx() {
	if _, _, end := f.snapshot(); end != nil {
		end()
	}
}

// endSnapshot ends the read-only transaction tx and gives its connection
// back to the pool.
func endSnapshot(tx *sql.Tx, conn *smallCacheConn) {
	tx.Rollback() //nolint:errcheck // read-only
	conn.release(context.Background())
}

// prefetchCachePages is the page cache, in pages, of the connection
// Prefetch reads on (see smallCacheConn): reading the blob records of a
// 5,000-file app with SQLite's default cache took 165 fresh pages; with
// this one, its two scans of them (the count, then the rows) read them
// from the OS's page cache twice.
const prefetchCachePages = 16

// inPlaceSeen returns the blobs the check found in place (nil if none).
func (f *prefetched) inPlaceSeen() *inPlace {
	if f == nil {
		return nil
	}
	return f.inPlace
}

// stopPrefetch ends the background checks and waits for them, before the
// database closes.
func (b *Backend) stopPrefetch() {
	p := &b.prefetch
	p.mu.Lock()
	p.closed = true
	for _, stop := range p.stops {
		stop()
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.apps {
		f.endTx()
	}
}
