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
	mu      sync.Mutex // guards tx and records
	// tx is the read-only transaction records were read in, kept open
	// for LiveAsIs to finish its one consistent read in; records are the
	// app's blobs as tx reads them, digest → size. Both nil once used,
	// or when the check failed.
	tx      *sql.Tx
	records map[string]int64
	// inPlace says which records' files were then in place with their
	// size; nil when the check failed or was cut short.
	inPlace *inPlace
}

// inPlace is what a Prefetch found of an app's blob files: each of
// records (digest → size) in place with its size, but for those in lost.
// It shares records with the snapshot LiveAsIs takes, which only reads
// them, rather than a copy of 5,000 entries for the few (usually none)
// found lost.
type inPlace struct {
	records map[string]int64
	lost    map[string]bool
}

// has reports whether the blob digest was found in place with size bytes
// (false for a nil *inPlace: nothing was seen).
func (p *inPlace) has(digest string, size int64) bool {
	if p == nil {
		return false
	}
	got, ok := p.records[digest]
	return ok && got == size && !p.lost[digest]
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
	f := &prefetched{done: make(chan struct{}), started: now}
	if p.apps == nil {
		p.apps = map[string]*prefetched{}
	}
	p.apps[app] = f
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(f.done)
		var err error
		defer crash.Recover(&err) // a failed check is only not used
		tx, err := b.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return
		}
		records, err := appBlobs(ctx, tx, app, prefetchMax)
		if err != nil || records == nil {
			tx.Rollback() //nolint:errcheck // read-only
			return
		}
		// One goroutine (this one): it runs beside the caller's own
		// work, which has the other cores.
		seen := &inPlace{records: records}
		for _, d := range b.lostBlobs(ctx, records, nil, 1) {
			if seen.lost == nil {
				seen.lost = map[string]bool{}
			}
			seen.lost[d] = true
		}
		if ctx.Err() != nil {
			tx.Rollback() //nolint:errcheck // read-only
			return
		}
		f.mu.Lock()
		f.tx, f.records, f.inPlace = tx, records, seen
		f.mu.Unlock()
	}()
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
// records read in it: the caller ends the transaction. nil when there is
// none.
func (f *prefetched) snapshot() (*sql.Tx, map[string]int64) {
	if f == nil {
		return nil, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tx, records := f.tx, f.records
	f.tx, f.records = nil, nil
	return tx, records
}

// endTx ends the check's transaction if no one took it.
func (f *prefetched) endTx() {
	if tx, _ := f.snapshot(); tx != nil {
		tx.Rollback() //nolint:errcheck // read-only
	}
}

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
