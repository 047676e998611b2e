package serve

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// maxPending bounds the logs kept while the store refuses writes; past it
// requests wait for the store rather than logs being dropped.
const maxPending = 100_000

// recorder writes request logs in batches from one goroutine. Handlers hand
// logs over a channel; a full channel makes them wait, so under any load
// logs are delayed, never dropped.
type recorder struct {
	w        backend.LogWriter
	app      string
	batch    int
	every    time.Duration
	onError  func(error)
	in       chan backend.RequestLog
	mu       sync.RWMutex // guards closed against record racing close
	closed   bool
	stop     chan context.Context // close's deadline for the final writes
	done     chan error
	nWritten atomic.Int64
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
	r.in = make(chan backend.RequestLog, 4*r.batch)
	go r.run()
	return r
}

// record queues a log. After close it reports the loss instead.
func (r *recorder) record(l backend.RequestLog) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.onError(fmt.Errorf("request log of %s %s arrived after shutdown and was not recorded", l.Method, l.Resource))
		return
	}
	r.in <- l
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
	r.mu.Unlock()
	return <-r.done
}

func (r *recorder) run() {
	// Writes use a context of their own: the shutdown signal that ends the
	// server must not abort the writes that save its last requests.
	ctx := context.Background()
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	var pending []backend.RequestLog
	flush := func(ctx context.Context) error {
		if len(pending) == 0 {
			return nil
		}
		if err := r.w.WriteLogs(ctx, r.app, pending); err != nil {
			return fmt.Errorf("recording %d request logs: %w (kept; retrying)", len(pending), err)
		}
		r.nWritten.Add(int64(len(pending)))
		pending = pending[:0]
		return nil
	}
	for {
		select {
		case l, ok := <-r.in:
			if !ok {
				r.done <- r.drain(<-r.stop, flush)
				return
			}
			pending = append(pending, l)
			if len(pending) < r.batch {
				continue
			}
			err := flush(ctx)
			for err != nil && len(pending) >= maxPending {
				r.onError(err)
				time.Sleep(r.every) // the store is failing: hold the handlers back
				err = flush(ctx)
			}
			if err != nil {
				r.onError(err)
			}
		case <-tick.C:
			if err := flush(ctx); err != nil {
				r.onError(err)
			}
		}
	}
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
