package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
)

// maxPending bounds the logs kept while the store refuses writes; past it
// requests wait for the store rather than logs being dropped.
const maxPending = 100_000

// maxLogWait bounds how long a response waits for its log to be written,
// so a slow store delays responses but never hangs them.
const maxLogWait = 5 * time.Second

// foldEvery is the least time between two folds of the spool: a fold is a
// store transaction, and spooled logs wait for one at no one's cost (a
// reader of the store folds the spool before it lists).
const foldEvery = 20 * time.Millisecond

// recorder writes request logs from one goroutine, by group commit: it
// writes what is queued at once, and what arrives meanwhile is the next
// write. Each handler waits for its own log's write before its response
// completes, so a client that got an answer has its request on record even
// if the server is killed (SIGKILL) the next instant (a write is handed to
// the kernel, not synced to disk: the store syncs in the background, so a
// response waits well under a millisecond for it); under load the
// writes grow, not their number. While the store refuses writes, logs are
// kept and retried and handlers no longer wait for them.
//
// With a spool, a handler appends its log to the spool instead (one
// write, the log then on record for every reader: backend.LogSpool) and
// does not wait; a goroutine of the recorder folds the spool into the
// store at most every foldEvery. A log the spool refuses (full, or its
// write failed) takes the path above.
type recorder struct {
	spool    backend.LogSpool
	kick     chan struct{} // a log was spooled
	folded   chan error    // the folder's last fold, once it stopped
	w        backend.LogWriter
	app      string
	batch    int
	every    time.Duration
	onError  func(error)
	in       chan queuedLog
	mu       sync.RWMutex // guards closed against record racing close
	closed   bool
	stop     chan context.Context // close's deadline for the final writes
	done     chan error
	failing  atomic.Bool
	nWritten atomic.Int64
}

// queuedLog is a log and what its handler waits on: closed once written.
type queuedLog struct {
	log     backend.RequestLog
	written chan struct{}
}

func newRecorder(cfg Config) *recorder {
	r := &recorder{
		w: cfg.Logs, app: cfg.App, batch: cfg.BatchSize, every: cfg.FlushEvery, onError: cfg.OnError,
		stop: make(chan context.Context, 1), done: make(chan error, 1),
	}
	if r.batch <= 0 {
		r.batch = 500
	}
	if r.every <= 0 {
		r.every = 250 * time.Millisecond
	}
	r.in = make(chan queuedLog, 4*r.batch)
	go r.run()
	if cfg.Spool != nil {
		r.spool, r.kick, r.folded = cfg.Spool, make(chan struct{}, 1), make(chan error, 1)
		go r.fold()
	}
	return r
}

// fold is the spool's folder: it folds after each kick, at most every
// foldEvery, until record's channel closes; then close folds the rest.
func (r *recorder) fold() {
	var err error
	defer func() { r.folded <- err }()
	defer crash.Recover(&err)
	// The folds use a context of their own, as the writes do (loop).
	ctx := context.Background()
	last := time.Time{}
	for range r.kick {
		for {
			if wait := foldEvery - time.Since(last); wait > 0 {
				time.Sleep(wait)
			}
			last = time.Now()
			// What is folded was counted when spooled (a reader of the
			// store may fold it first).
			_, ferr := r.spool.Fold(ctx)
			if ferr == nil {
				break
			}
			r.onError(fmt.Errorf("folding the request-log spool: %w (kept; retrying)", ferr))
			select { // again, even if nothing else is spooled; close folds the rest
			case _, ok := <-r.kick:
				if !ok {
					return
				}
			case <-time.After(r.every):
			}
		}
	}
}

// record queues a log and waits until it is written, ctx ends, maxLogWait
// passes or the store is failing. After close it reports the loss instead.
func (r *recorder) record(ctx context.Context, l backend.RequestLog) {
	q := queuedLog{log: l, written: make(chan struct{})}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		r.onError(fmt.Errorf("request log of %s %s arrived after shutdown and was not recorded", l.Method, l.Resource))
		return
	}
	if r.spool != nil {
		err := r.spool.Append([]backend.RequestLog{l})
		if err == nil {
			r.nWritten.Add(1)
			select {
			case r.kick <- struct{}{}:
			default: // a fold is due already
			}
			r.mu.RUnlock()
			return
		}
		r.onError(fmt.Errorf("%w (recording it directly)", err))
	}
	r.in <- q
	r.mu.RUnlock()
	if r.failing.Load() {
		return
	}
	t := time.NewTimer(maxLogWait)
	defer t.Stop()
	select {
	case <-q.written:
	case <-ctx.Done():
	case <-t.C:
	}
}

func (r *recorder) written() int { return int(r.nWritten.Load()) }

// close stops taking logs, writes every pending one and returns the first
// error of the final writes.
func (r *recorder) close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.stop <- ctx
	close(r.in)
	if r.spool != nil {
		close(r.kick)
	}
	r.mu.Unlock()
	err := <-r.done
	if r.spool != nil {
		ferr := <-r.folded
		_, cerr := r.spool.Close(context.WithoutCancel(ctx))
		if cerr != nil {
			cerr = fmt.Errorf("folding the request-log spool: %w", cerr)
		}
		err = errors.Join(err, ferr, cerr)
	}
	return err
}

// run is the recorder's goroutine. A panic in it is a bug: it is reported
// through onError, the logs still queued are dropped so no handler waits
// on a recorder that is gone, and close returns it (exit 70).
func (r *recorder) run() {
	var perr error
	defer func() {
		if perr == nil {
			return
		}
		r.failing.Store(true)
		r.onError(perr)
		for range r.in {
		}
		select {
		case <-r.stop: // unless the panic came after close's signal was taken
		default:
		}
		r.done <- perr
	}()
	defer crash.Recover(&perr)
	r.loop()
}

func (r *recorder) loop() {
	// Writes use a context of their own: the shutdown signal that ends the
	// server must not abort the writes that save its last requests.
	ctx := context.Background()
	var pending []queuedLog
	flush := func(ctx context.Context) error {
		if len(pending) == 0 {
			return nil
		}
		logs := make([]backend.RequestLog, len(pending))
		for i, q := range pending {
			logs[i] = q.log
		}
		if err := r.w.WriteLogs(ctx, r.app, logs); err != nil {
			r.failing.Store(true)
			return fmt.Errorf("recording %d request logs: %w (kept; retrying)", len(pending), err)
		}
		r.failing.Store(false)
		r.nWritten.Add(int64(len(pending)))
		for _, q := range pending {
			close(q.written)
		}
		pending = pending[:0]
		return nil
	}
	retry := time.NewTimer(r.every)
	retry.Stop()
	for {
		if len(pending) > 0 && !r.failing.Load() {
			closed := r.gather(&pending)
			if err := flush(ctx); err != nil {
				r.onError(err)
				retry.Reset(r.every)
			}
			if closed {
				r.done <- r.drain(<-r.stop, flush)
				return
			}
			continue
		}
		select {
		case q, ok := <-r.in:
			if !ok {
				r.done <- r.drain(<-r.stop, flush)
				return
			}
			pending = append(pending, q)
			for r.failing.Load() && len(pending) >= maxPending {
				time.Sleep(r.every) // the store is failing: hold the handlers back
				if err := flush(ctx); err != nil {
					r.onError(err)
				}
			}
		case <-retry.C:
			if err := flush(ctx); err != nil {
				r.onError(err)
				retry.Reset(r.every)
			}
		}
	}
}

// gather adds to pending what is already queued, up to a batch, without
// waiting, and reports whether the queue was closed.
func (r *recorder) gather(pending *[]queuedLog) bool {
	for len(*pending) < r.batch {
		select {
		case q, ok := <-r.in:
			if !ok {
				return true
			}
			*pending = append(*pending, q)
		default:
			return false
		}
	}
	return false
}

// drain writes what is pending, trying again until ctx ends.
func (r *recorder) drain(ctx context.Context, flush func(context.Context) error) error {
	wctx := context.WithoutCancel(ctx)
	for {
		err := flush(wctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(r.every):
		}
	}
}
