package bulkload

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/progress"
)

// Options are the settings of an upload or a download, named as the legacy
// flags.
type Options struct {
	App       string
	Namespace string
	// Kind selects the transformer (with a config) or the kind to restore
	// or dump ("" for all kinds).
	Kind     string
	Filename string
	// Config is the parsed bulkloader.yaml; nil means restore (upload) or
	// dump (download) of whole entities in the JSON Lines format.
	Config    *Config
	HasHeader bool
	// BatchSize is how many records one batch (one progress row) holds.
	BatchSize  int
	NumThreads int
	// RPSLimit (entities/s), BandwidthLimit (bytes/s) and HTTPLimit
	// (requests/s) throttle the run; 0 means no limit.
	RPSLimit, BandwidthLimit, HTTPLimit float64
	// DBFilename is the progress database; "" or "skip" disables it.
	DBFilename string
	// ResultDBFilename makes a download resumable: the database records
	// what of the output is written; "" or "skip" disables it.
	ResultDBFilename string
	// CheckpointEvery is how often a resumable download makes its output
	// durable and records it (0: every second).
	CheckpointEvery time.Duration
	DryRun          bool
	// Backend is the backend's location, part of the options signature.
	Backend string
	// LoaderOpts and ExporterOpts are the legacy free-form strings; they
	// are part of the signature and otherwise unused.
	LoaderOpts, ExporterOpts string
	Progress                 progress.Reporter
}

// RowError is a record that could not be converted or stored.
type RowError struct {
	Record, Line int
	Err          error
}

func (e RowError) Error() string {
	return fmt.Sprintf("line %d (record %d): %v", e.Line, e.Record, e.Err)
}

// Summary counts what a run did.
type Summary struct {
	Total      int // records read from the input
	Previously int // records a previous run already transferred
	Loaded     int // entities stored (or, with DryRun, converted) now
	Failed     int // records that could not be converted
	Skipped    int // restore: entities of other kinds than --kind
	Bytes      int64
	Duration   time.Duration
	// Partial is a resumable download's kept temporary output, when the
	// run did not complete.
	Partial string
	// Failures holds the MaxReportedFailures failed records of the lowest
	// numbers, in record order, whichever worker met them; all of them
	// are in the progress database's failed_rows table.
	Failures []RowError
}

// MaxReportedFailures bounds Summary.Failures: after the first few, more
// lines of the same kind of error only bury the summary.
const MaxReportedFailures = 20

// Signature is the text that identifies a run's options in its progress
// database; a rerun must have the same one to resume.
func (o Options) Signature(download bool) string {
	abs, _ := filepath.Abs(o.Filename)
	cfg := "none (dump/restore)"
	if o.Config != nil {
		cfg = o.Config.File + " sha256:" + o.Config.Digest
	}
	return strings.Join([]string{
		"app_id: " + o.App,
		"backend: " + o.Backend,
		"namespace: " + o.Namespace,
		"kind: " + o.Kind,
		"filename: " + abs,
		"config: " + cfg,
		fmt.Sprintf("has_header: %t", o.HasHeader),
		fmt.Sprintf("download: %t", download),
		"loader_opts: " + o.LoaderOpts,
		"exporter_opts: " + o.ExporterOpts,
	}, "\n")
}

func (o *Options) check() error {
	if o.App == "" {
		return errors.New("no application id: give -A APP_ID or an app directory")
	}
	if o.Filename == "" {
		return errors.New("Option 'filename' is required.") //nolint:staticcheck // the legacy message
	}
	if o.BatchSize < 1 {
		return errors.New("batch_size must be 1 or larger.") //nolint:staticcheck // the legacy message
	}
	if o.NumThreads < 1 {
		return errors.New("num_threads must be 1 or larger")
	}
	if o.RPSLimit < 0 || o.BandwidthLimit < 0 || o.HTTPLimit < 0 {
		return errors.New("rps_limit, bandwidth_limit and http_limit must be 0 (no limit) or positive")
	}
	return nil
}

// throttle holds the shared limiters of a run.
type throttle struct {
	rps, bandwidth, http *rate.Limiter
}

func newThrottle(o Options) *throttle {
	mk := func(limit float64) *rate.Limiter {
		if limit <= 0 {
			return nil
		}
		return rate.NewLimiter(rate.Limit(limit), max(1, int(limit)))
	}
	return &throttle{rps: mk(o.RPSLimit), bandwidth: mk(o.BandwidthLimit), http: mk(o.HTTPLimit)}
}

// waitN waits for n tokens, in bursts the limiter can grant.
func waitN(ctx context.Context, l *rate.Limiter, n int) error {
	if l == nil {
		return nil
	}
	for n > 0 {
		k := min(n, l.Burst())
		if err := l.WaitN(ctx, k); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		n -= k
	}
	return nil
}

func (t *throttle) request(ctx context.Context, entities, bytes int) error {
	if err := waitN(ctx, t.http, 1); err != nil {
		return err
	}
	if err := waitN(ctx, t.rps, entities); err != nil {
		return err
	}
	return waitN(ctx, t.bandwidth, bytes)
}

// batch is a run of consecutive records sent together; id is its progress
// row (0 for retries of earlier failed records, which have none).
type batch struct {
	id   int64
	recs []record
	// resend is set for records an earlier run read: ids it allocated
	// for them are in the progress database (see completeKeys for those
	// it stored without recording them read).
	resend bool
}

// uploader is one upload run.
type uploader struct {
	o    Options
	ents backend.Entities
	// enc is ents when it encodes batches apart from storing them (not
	// with DryRun): convertBatch then encodes each batch and reuses its
	// property maps at once.
	enc      backend.EntityEncoder
	tr       *Transformer
	db       *progressDB
	thr      *throttle
	rep      progress.Reporter
	kind     string
	loaded   atomic.Int64
	bytes    atomic.Int64
	mu       sync.Mutex
	failed   int
	failures []RowError
	skipped  atomic.Int64
	// failedBefore are records earlier runs could not convert; only they
	// have failed_rows entries to clear.
	failedBefore map[int]bool
	// idsBefore is the last record earlier runs allocated an id for (0:
	// none): a batch from there on has none to reuse.
	idsBefore int
	// propMaps holds the property maps of stored batches, emptied, for
	// later batches to fill, when the store does not encode (with one
	// that does, each converter keeps its own few: hotMaps). A channel
	// rather than a sync.Pool: the load's own garbage triggers
	// collections often, and each would empty a pool.
	propMaps chan []map[string]backend.Value
	// recSlices holds the record slices of converted batches, emptied,
	// for the reader's next batches: allocating one per batch was a
	// tenth of a load's garbage.
	recSlices chan []record
}

// Upload loads the input file into ents (nil with DryRun). It resumes from
// o.DBFilename when that database exists with the same options.
func Upload(ctx context.Context, ents backend.Entities, o Options) (sum Summary, err error) {
	start := time.Now()
	defer func() { sum.Duration = time.Since(start) }()
	if err := o.check(); err != nil {
		return sum, err
	}
	if ents == nil && !o.DryRun {
		return sum, errors.New("no backend to load into")
	}
	u := &uploader{o: o, ents: ents, thr: newThrottle(o), rep: progress.Or(o.Progress), kind: "*",
		// Room for every batch in flight: a stored group hands back
		// up to four groups' maps at once (one per storing goroutine),
		// and with room for fewer, the rest were dropped and made
		// again, a fifth of a load's allocated bytes. The maps are
		// bounded all the same: a batch's maps wait here only once it
		// has left the batches in flight.
		propMaps:  make(chan []map[string]backend.Value, inFlightBatches(o.NumThreads)),
		recSlices: make(chan []record, 2*o.NumThreads+1)}
	if enc, ok := ents.(backend.EntityEncoder); ok && !o.DryRun {
		u.enc = enc
	}
	var open func(io.Reader) (recordReader, error)
	if o.Config != nil {
		tr, err := o.Config.Transformer(o.Kind)
		if err != nil {
			return sum, err
		}
		u.tr, u.kind = tr, tr.Kind
		switch tr.Connector {
		case "csv":
			open = func(r io.Reader) (recordReader, error) { return newCSVReader(r, tr.Options, o.HasHeader) }
		case "simplexml":
			open = func(r io.Reader) (recordReader, error) { return newXMLReader(r, tr.Options, o.HasHeader), nil }
		default:
			return sum, fmt.Errorf("%s:%d: the %s connector can only export (download_data), not import", o.Config.File, tr.Line, tr.Connector)
		}
	} else {
		open = func(r io.Reader) (recordReader, error) {
			br := bufio.NewReaderSize(r, 64<<10)
			if err := sniffDump(br, o.Filename); err != nil {
				return nil, err
			}
			return &lineReader{r: br}, nil
		}
	}
	f, err := os.Open(o.Filename)
	if errors.Is(err, os.ErrNotExist) {
		return sum, fmt.Errorf("%s: file not found", o.Filename)
	}
	if err != nil {
		return sum, fmt.Errorf("%s: file not readable: %w", o.Filename, err)
	}
	defer f.Close()
	rd, err := open(f)
	var nd *notDumpError
	if errors.As(err, &nd) {
		return sum, err
	}
	if err != nil {
		return sum, fmt.Errorf("%s: %w", o.Filename, err)
	}
	if !o.DryRun && o.DBFilename != "" && o.DBFilename != "skip" {
		u.db, err = openProgress(ctx, o.DBFilename, o.Signature(false))
		if err != nil {
			return sum, err
		}
		defer func() {
			if cerr := u.db.close(); cerr != nil && err == nil {
				err = fmt.Errorf("closing the progress database: %w", cerr)
			}
		}()
	}
	// The bar counts stored entities and their input bytes, as the
	// summary does; their totals are not known before the end (failed
	// records, records a previous run stored), so it shows no percentage.
	u.rep.Phase("uploading", 0, 0)
	sum, err = u.run(ctx, rd)
	u.rep.Phase("", 0, 0)
	return sum, err
}

func (u *uploader) run(ctx context.Context, rd recordReader) (Summary, error) {
	var sum Summary
	ranges, err := u.db.ranges(ctx)
	if err != nil {
		return sum, err
	}
	failedBefore, err := u.db.failed(ctx)
	if err != nil {
		return sum, err
	}
	u.failedBefore = failedBefore
	if u.idsBefore, err = u.db.lastAllocated(ctx); err != nil {
		return sum, err
	}
	g, gctx := errgroup.WithContext(ctx)
	// Converting and storing are separate stages: NumThreads goroutines
	// convert batches while NumThreads others store converted ones, so a
	// store's wait (a local commit's fsync, a remote round trip) overlaps
	// the next conversions, and the stores in flight at once can share a
	// commit. The channels are short, so memory stays flat.
	work := make(chan batch, u.o.NumThreads)
	ready := make(chan converted, u.o.NumThreads)
	var converters sync.WaitGroup
	for range u.o.NumThreads {
		converters.Add(1)
		g.Go(func() (err error) {
			defer converters.Done()
			defer crash.Recover(&err)
			var hot hotMaps
			for b := range work {
				c, err := u.convertBatch(gctx, b, &hot)
				if err != nil {
					return err
				}
				select {
				case ready <- c:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() (err error) {
		defer crash.Recover(&err)
		converters.Wait()
		close(ready)
		return nil
	})
	// A store that commits several batches at once gets those ready
	// together (up to maxGroup): when it is the bottleneck they queue, and
	// its commits grow instead of their number.
	_, grouping := u.ents.(backend.EntityBatchPutter)
	grouping = grouping && !u.o.DryRun
	// inFlight bounds the batches read and not yet stored, so memory is
	// flat whatever the input. Deep enough for commits of whole groups:
	// a bound of two groups made a local load a third slower.
	inFlight := make(chan struct{}, inFlightBatches(u.o.NumThreads))
	for range u.o.NumThreads {
		g.Go(func() (err error) {
			defer crash.Recover(&err)
			for c := range ready {
				group := []converted{c}
			more:
				for grouping && len(group) < maxGroup {
					select {
					case c, ok := <-ready:
						if !ok {
							break more
						}
						group = append(group, c)
					default:
						break more
					}
				}
				err := u.send(gctx, group)
				for range group {
					<-inFlight
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	dispatch := func(b batch) error {
		select {
		case inFlight <- struct{}{}:
		case <-gctx.Done():
			return gctx.Err()
		}
		select {
		case work <- b:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	readErr := func() error {
		defer close(work)
		var fresh, retry batch
		var pending *batch // collecting a recorded, unsent range
		ri := 0
		last := 0
		flushFresh := func() error {
			if len(fresh.recs) == 0 {
				return nil
			}
			id, err := u.db.addBatch(gctx, u.kind, fresh.recs[0].num, fresh.recs[len(fresh.recs)-1].num)
			if err != nil {
				return err
			}
			fresh.id = id
			b := fresh
			fresh = batch{}
			return dispatch(b)
		}
		for {
			if err := gctx.Err(); err != nil {
				return err
			}
			rec, err := rd.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", u.o.Filename, err)
			}
			n := rec.num
			last = n
			sum.Total++
			for ri < len(ranges) && ranges[ri].end < n {
				ri++
			}
			var r *batchRange
			if ri < len(ranges) && ranges[ri].start <= n {
				r = &ranges[ri]
			}
			switch {
			case r != nil && r.state == stateSent:
				if !failedBefore[n] {
					sum.Previously++
					continue
				}
				retry.recs = append(retry.recs, rec)
				retry.resend = true
				if len(retry.recs) >= u.o.BatchSize {
					if err := dispatch(retry); err != nil {
						return err
					}
					retry = batch{}
				}
			case r != nil:
				if pending == nil {
					pending = &batch{id: r.id, resend: true}
				}
				pending.recs = append(pending.recs, rec)
				if n == r.end {
					if err := dispatch(*pending); err != nil {
						return err
					}
					pending = nil
				}
			default:
				if len(fresh.recs) > 0 && fresh.recs[len(fresh.recs)-1].num != n-1 {
					if err := flushFresh(); err != nil {
						return err
					}
				}
				if fresh.recs == nil {
					// Sized once: growing it by appends was most of
					// the reader's allocation.
					select {
					case fresh.recs = <-u.recSlices:
					default:
						fresh.recs = make([]record, 0, u.o.BatchSize)
					}
				}
				fresh.recs = append(fresh.recs, rec)
				if len(fresh.recs) >= u.o.BatchSize {
					if err := flushFresh(); err != nil {
						return err
					}
				}
			}
		}
		if pending != nil || (len(ranges) > 0 && ranges[len(ranges)-1].end > last) {
			return fmt.Errorf("Mismatch between data file and progress database: %s has %d records but %s recorded batches up to record %d; "+ //nolint:staticcheck // the legacy message
				"use the input file of that run, or start over with another --db_filename", u.o.Filename, last, u.db.path, ranges[len(ranges)-1].end)
		}
		if len(retry.recs) > 0 {
			if err := dispatch(retry); err != nil {
				return err
			}
		}
		return flushFresh()
	}()
	werr := g.Wait()
	sum.Loaded = int(u.loaded.Load())
	sum.Bytes = u.bytes.Load()
	sum.Skipped = int(u.skipped.Load())
	u.mu.Lock()
	sum.Failed, sum.Failures = u.failed, lowestFailures(u.failures)
	u.mu.Unlock()
	// A worker's error is the cause when both failed: the reader then only
	// saw the run being cancelled.
	if werr != nil {
		return sum, werr
	}
	return sum, readErr
}

// convert turns a record into an entity.
func (u *uploader) convert(st *rowState, rec *record, props map[string]backend.Value) (backend.Entity, bool, error) {
	if rec.err != nil {
		return backend.Entity{}, false, rec.err
	}
	if u.tr != nil {
		e, err := u.tr.importInto(st, rec, u.o.Namespace, props)
		return e, true, err
	}
	e, err := UnmarshalEntity(rec.raw)
	if err != nil {
		return e, false, err
	}
	if e.Key == nil || len(e.Key.Path) == 0 {
		return e, false, errors.New("the entity has no key")
	}
	last := &e.Key.Path[len(e.Key.Path)-1]
	if u.o.Kind != "" && last.Kind != u.o.Kind {
		return e, false, nil
	}
	if u.o.Namespace != "" {
		e.Key.Namespace = u.o.Namespace
	}
	return e, true, nil
}

// maxAttempts bounds the tries of one PutEntities call; backends retry
// transient errors themselves, this covers a failure between them.
const maxAttempts = 4

// converted is a batch with its records converted: the entities to store,
// the records that failed, and those of earlier failures that now succeed.
type converted struct {
	id          int64 // the batch's progress row
	first, last int   // its first and last record numbers
	ents        []backend.Entity
	// enc holds ents encoded, a batch of at most MaxEntityBatch each,
	// when the store is an EntityEncoder; ents' property maps are then
	// reused already.
	enc    []backend.EncodedEntities
	okRecs []int
	fails  []RowError
	bytes  int
}

// encodeChunk is how many entities a converting goroutine converts before
// it encodes them, when the store encodes (backend.EntityEncoder): their
// property maps (about 1.5 KB each for a handful of properties) are then
// still in its core's caches, and the next records fill the same maps.
// Filling a whole batch's 500 maps before encoding them missed the caches
// on the first write to each map and again on reading it.
const encodeChunk = 16

// hotMaps are a converting goroutine's property maps between its chunks,
// when the store encodes: a few maps, filled again and again.
type hotMaps []map[string]backend.Value

func (u *uploader) convertBatch(ctx context.Context, b batch, hot *hotMaps) (converted, error) {
	// The records are not kept: once converted, the batch is its
	// entities, and it waits for the store with many others.
	c := converted{id: b.id, first: b.recs[0].num, last: b.recs[len(b.recs)-1].num, ents: make([]backend.Entity, 0, len(b.recs))}
	var st rowState
	var incomplete, incRecs []int // entities without an id yet, and their records
	var spare []map[string]backend.Value
	if u.enc == nil {
		select {
		case spare = <-u.propMaps:
		default:
		}
	}
	encoded := 0 // c.ents[:encoded] are encoded, and their maps back in hot
	for i := range b.recs {
		rec := &b.recs[i]
		var props map[string]backend.Value
		if u.tr != nil {
			if n := len(*hot); n > 0 {
				props, *hot = (*hot)[n-1], (*hot)[:n-1]
			} else if n := len(spare); n > 0 {
				props, spare = spare[n-1], spare[:n-1]
			}
		}
		e, keep, err := u.convert(&st, rec, props)
		if err == nil && keep {
			// Datastore's limits, per record, on every backend: a
			// bad entity is this record's error, not its batch's.
			err = backend.CheckEntity(&e)
		}
		if err != nil {
			c.fails = append(c.fails, RowError{Record: rec.num, Line: rec.line, Err: err})
			continue
		}
		if !keep {
			u.skipped.Add(1)
			continue
		}
		if last := e.Key.Path[len(e.Key.Path)-1]; last.ID == 0 && last.Name == "" {
			incomplete, incRecs = append(incomplete, len(c.ents)), append(incRecs, rec.num)
		}
		c.ents = append(c.ents, e)
		if u.failedBefore[rec.num] {
			c.okRecs = append(c.okRecs, rec.num)
		}
		c.bytes += rec.size
		// Keys are complete for the whole batch at once (one
		// allocation, one record of the ids): from the first
		// incomplete one, the rest of the batch is encoded after.
		if u.enc != nil && len(incomplete) == 0 && len(c.ents)-encoded >= encodeChunk {
			if err := u.encode(&c, &encoded, hot); err != nil {
				return c, err
			}
		}
	}
	if len(incomplete) > 0 {
		if err := u.completeKeys(ctx, b.resend, c.ents, incomplete, incRecs); err != nil {
			return c, err
		}
	}
	if u.enc != nil {
		if err := u.encode(&c, &encoded, hot); err != nil {
			return c, err
		}
	}
	if cap(b.recs) >= u.o.BatchSize {
		// Nothing converted refers to the records themselves (their
		// texts live on in the entities), so the slice is free.
		clear(b.recs)
		select {
		case u.recSlices <- b.recs[:0]:
		default:
		}
	}
	return c, nil
}

// encode encodes c.ents[*done:] for the store, on the converting goroutine
// while their maps are in its core's caches, onto c.enc's last batch while
// it has room (batches of at most MaxEntityBatch), and hands the maps back
// to hot for the next records: encoded, a batch no longer needs them.
func (u *uploader) encode(c *converted, done *int, hot *hotMaps) error {
	for *done < len(c.ents) {
		var last backend.EncodedEntities // the last batch, while it has room
		room := backend.MaxEntityBatch
		if n := len(c.enc); n > 0 && c.enc[n-1].Len() < backend.MaxEntityBatch {
			last = c.enc[n-1]
			room -= last.Len()
		}
		part := c.ents[*done:min(*done+room, len(c.ents))]
		var err error
		if last != nil {
			err = last.Append(part)
		} else {
			var eb backend.EncodedEntities
			if eb, err = u.enc.EncodeEntities(part); err == nil {
				c.enc = append(c.enc, eb)
			}
		}
		if err != nil {
			return fmt.Errorf("storing records %d–%d of %s: %w", c.first, c.last, u.o.Filename, err)
		}
		for i := range part {
			if m := part[i].Properties; m != nil && u.tr != nil && len(*hot) < maxHotMaps {
				*hot = append(*hot, m)
			}
			part[i].Properties = nil
		}
		*done += len(part)
	}
	return nil
}

// maxHotMaps bounds a converting goroutine's spare maps: a batch encoded
// whole (its keys were completed first) hands back more than a chunk's.
const maxHotMaps = 2 * encodeChunk

// completeKeys gives the entities ents[idx...] (of records recs...), whose
// keys are incomplete, the ids an earlier run recorded for those records,
// or ids the datastore allocates now, recorded before the entities are
// sent. A batch sent twice (a retry, a resumed run) then stores the same
// entities, never copies. Without an IDAllocator (or with DryRun) the keys
// stay incomplete and the store allocates.
func (u *uploader) completeKeys(ctx context.Context, resend bool, ents []backend.Entity, idx, recs []int) error {
	alloc, ok := u.ents.(backend.IDAllocator)
	if !ok || u.o.DryRun {
		return nil
	}
	var known map[int]int64
	// Not only a batch recorded read: a run killed just after storing a
	// batch may not have recorded it yet (records lag), while the ids it
	// allocated for it were recorded before it was sent.
	if resend || recs[0] <= u.idsBefore {
		var err error
		if known, err = u.db.allocatedIDs(ctx, recs[0], recs[len(recs)-1]); err != nil {
			return err
		}
	}
	// Ids are allocated per key shape (namespace, ancestors, kind): a
	// batch's rows without keys all have one.
	type want struct {
		idx, rec []int
	}
	shapes := map[string]*want{}
	var order []string
	for i, j := range idx {
		k := ents[j].Key
		if id, ok := known[recs[i]]; ok {
			k.Path[len(k.Path)-1].ID = id
			continue
		}
		shape := backend.KeyString(*k)
		w := shapes[shape]
		if w == nil {
			w = &want{}
			shapes[shape] = w
			order = append(order, shape)
		}
		w.idx, w.rec = append(w.idx, j), append(w.rec, recs[i])
	}
	var fresh [][2]int64 // record, id
	for _, shape := range order {
		w := shapes[shape]
		for start := 0; start < len(w.idx); start += backend.MaxEntityBatch {
			end := min(start+backend.MaxEntityBatch, len(w.idx))
			keys, err := alloc.AllocateIDs(ctx, u.o.App, *ents[w.idx[start]].Key, end-start)
			if err != nil {
				return fmt.Errorf("allocating ids for records %d–%d of %s: %w", w.rec[start], w.rec[end-1], u.o.Filename, err)
			}
			for i, k := range keys {
				e := ents[w.idx[start+i]].Key
				id := k.Path[len(k.Path)-1].ID
				e.Path[len(e.Path)-1].ID = id
				fresh = append(fresh, [2]int64{int64(w.rec[start+i]), id})
			}
		}
	}
	return u.db.saveIDs(ctx, fresh)
}

// maxGroup bounds the batches stored in one call of an EntityBatchPutter.
const maxGroup = 8

// inFlightBatches bounds the batches read and not yet stored.
func inFlightBatches(numThreads int) int { return max(5*maxGroup, 2*numThreads) }

// send stores a group of converted batches (one, unless the store takes
// several at once) and records them sent.
func (u *uploader) send(ctx context.Context, group []converted) error {
	if !u.o.DryRun {
		// A batch goes from read to sent (or error) without recording
		// "sending" first: a resume resends read and sending batches
		// alike, and the extra transaction per batch cost a tenth of the
		// progress database's share of a load.
		var chunks [][]backend.Entity
		var encoded []backend.EncodedEntities
		bytes := 0
		for _, c := range group {
			for i := 0; i < len(c.ents); i += backend.MaxEntityBatch {
				chunks = append(chunks, c.ents[i:min(i+backend.MaxEntityBatch, len(c.ents))])
			}
			encoded = append(encoded, c.enc...)
			bytes += c.bytes
		}
		if err := u.put(ctx, chunks, encoded, bytes); err != nil {
			for _, c := range group {
				if ctx.Err() == nil {
					_ = u.db.setState(context.WithoutCancel(ctx), c.id, stateError)
				}
			}
			if errors.Is(err, backend.ErrInvalidEntity) {
				return fmt.Errorf("storing records %d–%d of %s: the host refused them for good: %w; fix those records and rerun the same command",
					group[0].first, group[len(group)-1].last, u.o.Filename, err)
			}
			return fmt.Errorf("storing records %d–%d of %s: %w; rerun the same command to resume",
				group[0].first, group[len(group)-1].last, u.o.Filename, err)
		}
		for _, eb := range encoded {
			eb.Release()
		}
		for _, c := range group {
			if u.enc == nil { // else encode handed the maps back already
				u.recycle(c.ents)
			}
			if err := u.db.finish(ctx, c.id, c.okRecs, c.fails); err != nil {
				return err
			}
		}
	}
	for _, c := range group {
		u.loaded.Add(int64(len(c.ents)))
		u.bytes.Add(int64(c.bytes))
		u.rep.Add(int64(len(c.ents)), int64(c.bytes))
		u.mu.Lock()
		u.failed += len(c.fails)
		u.failures = append(u.failures, c.fails...)
		if len(u.failures) > 4*MaxReportedFailures {
			u.failures = lowestFailures(u.failures)
		}
		u.mu.Unlock()
	}
	return nil
}

// lowestFailures returns the MaxReportedFailures failures of the lowest
// record numbers, in record order: batches finish in any order.
func lowestFailures(fs []RowError) []RowError {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Record < fs[j].Record })
	return fs[:min(len(fs), MaxReportedFailures)]
}

// recycle keeps the property maps of stored entities for later batches. Only
// a successful PutEntities is done with them (see backend.Entities); after a
// failure a store may still be reading them, so they are left to the GC.
// The maps keep their properties: the next records overwrite them in place
// (see Transformer.importInto), which allocates nothing. A batch without
// maps (all its records failed) hands back nothing: an empty set would take
// a slot of propMaps.
func (u *uploader) recycle(ents []backend.Entity) {
	if u.tr == nil {
		return
	}
	maps := make([]map[string]backend.Value, 0, len(ents))
	for _, e := range ents {
		if e.Properties != nil {
			maps = append(maps, e.Properties)
		}
	}
	if len(maps) == 0 {
		return
	}
	select {
	case u.propMaps <- maps:
	default: // enough batches' maps are waiting
	}
}

// put stores chunks of at most MaxEntityBatch entities: one request per
// chunk, or one for all of them when the store takes several at once.
// encoded, when the store is an EntityEncoder, is the chunks encoded
// (their entities' property maps are reused already).
func (u *uploader) put(ctx context.Context, chunks [][]backend.Entity, encoded []backend.EncodedEntities, bytes int) error {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	if u.enc != nil {
		return u.try(ctx, n, bytes, func() error {
			_, err := u.enc.PutEncodedEntityBatches(ctx, u.o.App, encoded)
			return err
		})
	}
	// Every entity here passed backend.CheckEntity in convertBatch, so a
	// store that can skips checking it again.
	if cp, ok := u.ents.(backend.CheckedEntityBatchPutter); ok {
		return u.try(ctx, n, bytes, func() error {
			_, err := cp.PutCheckedEntityBatches(ctx, u.o.App, chunks)
			return err
		})
	}
	if bp, ok := u.ents.(backend.EntityBatchPutter); ok && len(chunks) > 1 {
		return u.try(ctx, n, bytes, func() error {
			_, err := bp.PutEntityBatches(ctx, u.o.App, chunks)
			return err
		})
	}
	for _, c := range chunks {
		share := bytes * len(c) / max(1, n)
		if err := u.try(ctx, len(c), share, func() error {
			_, err := u.ents.PutEntities(ctx, u.o.App, c)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// try makes one store request, within the limits, retrying failures.
func (u *uploader) try(ctx context.Context, entities, bytes int, store func() error) error {
	var err error
	delay := 100 * time.Millisecond
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if err = u.thr.request(ctx, entities, bytes); err != nil {
			return err
		}
		if err = store(); err == nil {
			return nil
		}
		// A refusal by Datastore's limits is permanent: the same
		// entities fail the same way however often they are sent.
		if ctx.Err() != nil || errors.Is(err, backend.ErrUnsupported) || errors.Is(err, backend.ErrInvalidEntity) || attempt == maxAttempts {
			break
		}
		u.rep.Warn(fmt.Sprintf("storing %d entities failed (attempt %d of %d), retrying: %v", entities, attempt, maxAttempts, err))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
	return err
}

// notDumpError is an input given without a config that is not a dump: one
// message for the file, instead of one error per record.
type notDumpError struct{ msg string }

func (e *notDumpError) Error() string { return e.msg }

// sniffDump looks at the first record of an input given without a config:
// a dump's records are JSON objects. CSV and XML need a bulkloader.yaml,
// and saying so once beats failing every record.
func sniffDump(br *bufio.Reader, name string) error {
	head, _ := br.Peek(64 << 10)
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] == '{' {
		return nil
	}
	first := head
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	switch {
	case head[0] == '<':
		return &notDumpError{fmt.Sprintf("%s looks like XML; upload_data reads XML through a bulkloader.yaml (--config_file, connector simplexml), see `appcfg create_bulkloader_config`", name)}
	case bytes.ContainsAny(first, ",;\t|"):
		return &notDumpError{fmt.Sprintf("%s looks like CSV; upload_data reads CSV through a bulkloader.yaml (--config_file), see `appcfg create_bulkloader_config`", name)}
	}
	return &notDumpError{fmt.Sprintf("%s is not a JSON Lines dump (its first record does not start with '{'): without --config_file, upload_data restores a dump written by download_data; other formats load through a bulkloader.yaml (--config_file), see `appcfg create_bulkloader_config`", name)}
}
