package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appmodel"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/progress"
)

// Options describe one deploy.
type Options struct {
	App, Service, Version, Runtime string
	// Model is the service's configuration as deployed (its yaml file
	// parsed, includes merged): the host gets it as it is.
	Model *appmodel.App
	// Files is the upload set, as chosen by package skipfiles, and Root
	// the app directory their paths are in (the walk's Root: File.Abs).
	Files []File
	Root  string

	// Companions are the companion files to push after the version is
	// live; nil pushes none.
	Companions Companions

	DryRun    bool // plan only: nothing changes on the host
	NoPromote bool // create the version but route no traffic to it

	HashWorkers   int              // default: number of CPUs (set by the caller)
	UploadWorkers int              // default: the backend's Connections
	Cache         *hashcache.Cache // stat cache; nil hashes every file

	Owner backend.Owner // who deploys, for the lock record
	// Lease is how long the version lock lasts without renewal; it is
	// renewed every Lease/3. Default 30s.
	Lease time.Duration
	// Stale reports whether the holder of a lock is certainly gone (a
	// process on this host that no longer runs), so its lock can be taken
	// over at once instead of after its lease. nil never takes over.
	Stale func(backend.Owner) bool

	// KeepVersions, when above 0, deletes the service's oldest versions
	// beyond that many (this one counts) that receive no traffic and are
	// not the previous default, before anything is sent.
	KeepVersions int

	// AllowDeprecatedRuntime skips the runtime lifecycle check (Google
	// may still refuse the version).
	AllowDeprecatedRuntime bool
	// Now is the clock of the lifecycle check (nil: time.Now).
	Now func() time.Time
}

// Companions are the companion files (index.yaml, cron.yaml …) a deploy
// pushes once its version is live. Package companion's Set implements it;
// upload only calls it, so neither feature package imports the other.
type Companions interface {
	// Check drops the files a host that can tell says it will not take,
	// before anything is sent, and returns a warning for each.
	Check(b backend.Backend) []string
	// Push pushes them, and returns what it pushed and the problems
	// that did not stop it (also given to rep); an error means a file
	// that decides where traffic goes was not pushed.
	Push(ctx context.Context, b backend.Backend, rep progress.Reporter) (pushed, warnings []string, err error)
}

// Result is what a deploy did, or with DryRun would do.
type Result struct {
	App          string   `json:"app"`
	Service      string   `json:"service"`
	Version      string   `json:"version"`
	DryRun       bool     `json:"dry_run"`
	Files        int      `json:"files"`         // files in the version
	Bytes        int64    `json:"bytes"`         // their total size
	Blobs        int      `json:"blobs"`         // distinct contents
	Missing      int      `json:"missing"`       // contents the host lacked (sent, or to send)
	MissingBytes int64    `json:"missing_bytes"` // their size
	Uploaded     []string `json:"uploaded"`      // a path for each content sent (or to send)
	Promoted     bool     `json:"promoted"`
	Pushed       []string `json:"pushed,omitempty"`   // companion configurations pushed (on a dry run of companion files alone: to push)
	Warnings     []string `json:"warnings,omitempty"` // problems that did not stop the deploy
	// DeletedVersions are the old versions --keep_versions deleted (or,
	// on a dry run, would delete).
	DeletedVersions []string `json:"deleted_versions,omitempty"`
	// Unchanged says the version existed with the same files and
	// configuration: nothing was sent or created.
	Unchanged bool `json:"unchanged,omitempty"`
	// Deployed is the version as the host reports it; nil on a dry run.
	Deployed *backend.Version `json:"deployed,omitempty"`
}

// Deploy runs the deploy described by opts against b. A backend that
// cannot deploy versions (no backend.Deployer) is refused before a file is
// read.
func Deploy(ctx context.Context, b backend.Backend, opts Options, rep progress.Reporter) (*Result, error) {
	rep = progress.Or(rep)
	d, err := backend.AsDeployer(b)
	if err != nil {
		return nil, err
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	res := &Result{App: opts.App, Service: opts.Service, Version: opts.Version, DryRun: opts.DryRun}
	if err := preflight(b, &opts, res, rep); err != nil {
		return nil, err
	}
	if err := checkRuntime(ctx, b, opts, res, rep); err != nil {
		return nil, err
	}
	if err := makeRoom(ctx, b, opts, res, rep); err != nil {
		return nil, err
	}
	// A host that reads what it holds in the background does so while
	// the files are hashed, not after.
	if p, ok := b.(backend.Prefetcher); ok {
		p.Prefetch(ctx, opts.App)
	}

	ing, err := ingesterFor(ctx, b, d, opts)
	if err != nil {
		return nil, err
	}
	var lk *heldLock
	if ing != nil {
		// The host stores the files as they are hashed: the version
		// lock must be held from the first one (see store.md).
		if lk, ctx, err = lockVersion(ctx, b, opts, rep); err != nil {
			return nil, err
		}
		defer lk.release(ctx, rep)
	}
	h, err := hashFiles(ctx, opts.Root, opts.Files, hashWorkers(b, opts, ing), opts.Cache, ing, rep)
	rep.Phase("", 0, 0)
	if err != nil {
		return nil, lk.explain(ctx, err)
	}
	if opts.Cache != nil && !opts.DryRun {
		if err := opts.Cache.Save(); err != nil {
			rep.Warn(err.Error())
		}
	}
	files := h.refs
	res.Files = len(files)
	for _, f := range files {
		res.Bytes += f.Size
	}

	// A version live exactly as this deploy would leave it needs no lock
	// and no write: nothing is sent, created or promoted. (A host that
	// stored the files as they were hashed held nothing of the app.)
	if ing == nil {
		if v, live, err := liveAsIs(ctx, b, opts, files); err != nil {
			return nil, err
		} else if live {
			res.Unchanged, res.Deployed, res.Promoted = true, v, !opts.NoPromote
			res.Blobs = countDistinct(files)
			rep.Status(unchangedStatus(opts))
			return pushCompanions(ctx, b, nil, opts, res, rep)
		}
	}
	blobs := distinct(h)
	res.Blobs = len(blobs)

	if lk == nil {
		if lk, ctx, err = lockVersion(ctx, b, opts, rep); err != nil {
			return nil, err
		}
		defer lk.release(ctx, rep)
	}

	// Contents the host stored while they were hashed count as sent; the
	// host is asked about the others.
	var stored, ask []hashed
	for _, f := range blobs {
		if f.Stored {
			stored = append(stored, f)
		} else {
			ask = append(ask, f)
		}
	}
	rep.Status("Asking the host which files it lacks.")
	missing, err := missingBlobs(ctx, d, opts.App, ask)
	if err != nil {
		return nil, lk.explain(ctx, err)
	}
	res.Missing = len(stored) + len(missing)
	for _, m := range append(stored, missing...) {
		res.MissingBytes += m.Size()
		res.Uploaded = append(res.Uploaded, m.Path)
	}
	// Nothing to send and the version as the host holds it: nothing to
	// create either (a content the host lost, which verify --repair
	// forgets, is sent again first).
	if res.Missing == 0 {
		if same, err := unchanged(ctx, b, opts, files); err != nil {
			return nil, lk.explain(ctx, err)
		} else if same {
			res.Unchanged = true
			rep.Status(unchangedStatus(opts))
			if opts.DryRun {
				return res, nil
			}
			if vs, ok := b.(backend.Versions); ok {
				if v, err := vs.Version(ctx, opts.App, opts.Service, opts.Version); err == nil {
					res.Deployed = &v
				}
			}
			return promoteAndPush(ctx, b, lk, opts, res, rep)
		}
	}
	if opts.DryRun {
		return res, nil
	}

	err = sendBlobs(ctx, b, d, opts, missing, len(stored) > 0, rep)
	rep.Phase("", 0, 0)
	if err != nil {
		return nil, lk.explain(ctx, err)
	}

	// A deploy stopped past its lease (SIGSTOP, a suspended laptop) may
	// wake up here after another deploy took its lock over: it must not
	// create the version. The renewal proves the lock is still ours for
	// a whole lease.
	if err := lk.confirm(ctx); err != nil {
		return nil, err
	}
	rep.Status(fmt.Sprintf("Creating version %s of service %s.", opts.Version, opts.Service))
	v, err := d.CreateVersion(ctx, spec(opts, files))
	if err != nil {
		return nil, lk.explain(ctx, fmt.Errorf("creating version %s: %w", opts.Version, err))
	}
	res.Deployed = &v
	return promoteAndPush(ctx, b, lk, opts, res, rep)
}

// promoteAndPush routes the service's traffic to the version (unless
// NoPromote) and pushes the companion files, once the version exists.
func promoteAndPush(ctx context.Context, b backend.Backend, lk *heldLock, opts Options, res *Result, rep progress.Reporter) (*Result, error) {
	if !opts.NoPromote {
		vs, err := backend.As[backend.Versions](b, "routing traffic (use --no-promote)")
		if err != nil {
			return nil, err
		}
		rep.Status(fmt.Sprintf("Routing all traffic of service %s to version %s.", opts.Service, opts.Version))
		if err := vs.SetTraffic(ctx, opts.App, opts.Service, map[string]float64{opts.Version: 1}, false); err != nil {
			what := "created"
			if res.Unchanged {
				what = "unchanged"
			}
			return nil, fmt.Errorf("version %s was %s, but promoting it failed: %w", opts.Version, what, lk.cause(ctx, err))
		}
		res.Promoted = true
		// The version was read before it was promoted: it now has all
		// of its service's traffic.
		if res.Deployed != nil {
			res.Deployed.Traffic = 1
		}
	}
	return pushCompanions(ctx, b, lk, opts, res, rep)
}

// pushCompanions pushes the companion files, once the version is live.
func pushCompanions(ctx context.Context, b backend.Backend, lk *heldLock, opts Options, res *Result, rep progress.Reporter) (*Result, error) {
	if opts.Companions != nil {
		pushed, warnings, err := opts.Companions.Push(ctx, b, rep)
		res.Pushed, res.Warnings = pushed, append(res.Warnings, warnings...)
		if err != nil {
			return res, lk.cause(ctx, err)
		}
	}
	return res, nil
}

// heldLock is the version lock a deploy holds, renewed in the background.
// A nil *heldLock (no Locker, or a dry run) holds nothing and explains
// nothing.
type heldLock struct {
	l     backend.Locker
	key   backend.LockKey
	token string
	lease time.Duration
	stop  func() error
}

// lockVersion takes the version lock where the host has locks, except on a
// dry run; a nil *heldLock holds nothing.
func lockVersion(ctx context.Context, b backend.Backend, opts Options, rep progress.Reporter) (*heldLock, context.Context, error) {
	l, ok := b.(backend.Locker)
	if opts.DryRun || !ok {
		return nil, ctx, nil
	}
	rep.Status(fmt.Sprintf("Locking version %s of service %s.", opts.Version, opts.Service))
	return takeLock(ctx, l, opts, rep)
}

// takeLock takes the version lock and keeps it renewed; the returned
// context ends when a renewal fails.
func takeLock(ctx context.Context, l backend.Locker, opts Options, rep progress.Reporter) (*heldLock, context.Context, error) {
	key := lockKey(opts)
	token, err := acquire(ctx, l, key, opts, rep)
	if err != nil {
		return nil, ctx, err
	}
	lk := &heldLock{l: l, key: key, token: token, lease: opts.Lease}
	ctx, lk.stop = keepLock(ctx, l, key, token, opts.Lease)
	return lk, ctx, nil
}

// release stops the renewals and frees the lock, unless it was lost.
func (lk *heldLock) release(ctx context.Context, rep progress.Reporter) {
	if lk == nil {
		return
	}
	if lost := lk.stop(); lost != nil {
		return
	}
	// Release on a fresh context: the deploy's may be cancelled.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := lk.l.ReleaseLock(rctx, lk.key, lk.token); err != nil {
		rep.Warn(fmt.Sprintf("could not release the deploy lock (it expires by itself in %s): %v", lk.lease, err))
	}
}

// confirm renews the lock now, and explains a lost one.
func (lk *heldLock) confirm(ctx context.Context) error {
	if lk == nil {
		return nil
	}
	if err := lk.l.RenewLock(ctx, lk.key, lk.token, lk.lease); err != nil {
		return lk.explain(ctx, err)
	}
	return nil
}

// cause returns why the deploy stopped: the lost lock when a renewal
// failed (the error the deploy itself saw is then only the cancellation
// that followed), else err.
func (lk *heldLock) cause(ctx context.Context, err error) error {
	if lk == nil {
		return err
	}
	if c := context.Cause(ctx); c != nil && errors.Is(c, backend.ErrLockLost) {
		return c
	}
	return err
}

// explain words a failure before the version was created: when the lock was
// lost, no part of this run is live, and the user must hear so rather than
// "interrupted, run it again".
func (lk *heldLock) explain(ctx context.Context, err error) error {
	err = lk.cause(ctx, err)
	if lk == nil || !errors.Is(err, backend.ErrLockLost) {
		return err
	}
	return fmt.Errorf("%w.\nNothing of this run is live: it created and changed no version. The files it sent stay on the host, so a later update does not send them again; check what the other deploy made live with `appcfg list_versions` before deploying again", err)
}

// preflight asks a host that can tell whether it will take the version and
// each companion, before anything is hashed or sent: a version it refuses
// stops the deploy; a companion it does not take is dropped with a warning
// naming what replaced it, so the deploy's outcome says whether the version
// is live.
func preflight(b backend.Backend, opts *Options, res *Result, rep progress.Reporter) error {
	p, ok := b.(backend.Preflight)
	if !ok {
		return nil
	}
	if err := p.CheckVersion(spec(*opts, nil)); err != nil {
		return err
	}
	if opts.Companions != nil {
		for _, w := range opts.Companions.Check(b) {
			warn(res, rep, w)
		}
	}
	return nil
}

func lockKey(opts Options) backend.LockKey {
	return backend.LockKey{App: opts.App, Service: opts.Service, Version: opts.Version}
}

// acquire takes the version lock, taking it over from a holder that Stale
// says crashed.
func acquire(ctx context.Context, l backend.Locker, key backend.LockKey, opts Options, rep progress.Reporter) (string, error) {
	opts.Owner.Acquired = time.Now()
	token, err := l.AcquireLock(ctx, key, opts.Owner, opts.Lease)
	var le *backend.LockedError
	if err == nil || !errors.As(err, &le) || opts.Stale == nil || !opts.Stale(le.Owner) {
		return token, err
	}
	rep.Warn(fmt.Sprintf("taking over the lock of an interrupted deploy (pid %d on %s, which no longer runs)", le.Owner.PID, le.Owner.Host))
	if _, err := l.BreakLock(ctx, key); err != nil {
		return "", err
	}
	return l.AcquireLock(ctx, key, opts.Owner, opts.Lease)
}

// keepLock renews the lock every lease/3 until stop is called. When a
// renewal fails the returned context is cancelled, so the deploy stops
// rather than go on without the lock; stop then reports why.
func keepLock(ctx context.Context, l backend.Locker, key backend.LockKey, token string, lease time.Duration) (context.Context, func() error) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	finished := make(chan error, 1)
	go func() {
		var perr error
		defer func() {
			if perr != nil {
				cancel(perr)
				finished <- perr
			}
		}()
		defer crash.Recover(&perr)
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				finished <- nil
				return
			case <-ctx.Done():
				finished <- context.Cause(ctx)
				return
			case <-t.C:
				if err := l.RenewLock(ctx, key, token, lease); err != nil && ctx.Err() == nil {
					if !errors.Is(err, backend.ErrLockLost) {
						err = fmt.Errorf("the deploy lock could not be renewed, stopping: %w", err)
					}
					cancel(err)
					finished <- err
					return
				}
			}
		}
	}()
	return ctx, func() error {
		close(done)
		err := <-finished
		cancel(nil)
		if errors.Is(err, backend.ErrLockLost) {
			return err
		}
		return nil
	}
}

// distinct returns one file per content, first by path, marked Stored when
// the host stored that content from any of its files.
func distinct(h *hashedSet) []hashed {
	seen := make(map[string]int, len(h.refs))
	out := make([]hashed, 0, len(h.refs))
	for i := range h.refs {
		f := h.at(i)
		j, dup := seen[f.SHA1]
		if !dup {
			seen[f.SHA1] = len(out)
			out = append(out, f)
		} else if f.Stored {
			// The host stored this content from another file.
			out[j].Stored = true
		}
	}
	return out
}

// countDistinct returns how many distinct contents files have: what an
// unchanged redeploy reports, without distinct's list. The digests seen
// are kept as indices into files, in an open-addressing table of twice
// as many slots: 64 KB for 5,000 files where a map of the digests took
// 200 KB of fresh memory (53 page faults, 11 µs each on the benchmarks'
// VM) and more CPU time than its inserts. Slots are 32 bits wide unless
// the list is too long for them to index.
func countDistinct(files []backend.FileRef) int {
	if len(files) < math.MaxInt32/2 {
		return countDistinctIn[int32](files)
	}
	return countDistinctIn[int](files)
}

// countDistinctIn is countDistinct with slots of type S, which must hold
// 1 + the index of any file.
func countDistinctIn[S int32 | int](files []backend.FileRef) int {
	size := 1
	for size < 2*len(files) {
		size <<= 1
	}
	mask := uint64(size - 1)
	slots := make([]S, size) // 1 + the index of a file with that digest; 0 for none
	seed := maphash.MakeSeed()
	n := 0
	for i := range files {
		d := files[i].SHA1
		for h := maphash.String(seed, d) & mask; ; h = (h + 1) & mask {
			j := slots[h]
			if j == 0 {
				slots[h] = S(i + 1)
				n++
				break
			}
			if files[j-1].SHA1 == d {
				break
			}
		}
	}
	return n
}

// missingChunk bounds one MissingBlobs request, so a huge app never makes
// one huge call; 10,000 is App Engine's file limit, so most apps ask once.
const missingChunk = 10000

func missingBlobs(ctx context.Context, d backend.Deployer, app string, blobs []hashed) ([]hashed, error) {
	var out []hashed
	for start := 0; start < len(blobs); start += missingChunk {
		chunk := blobs[start:min(start+missingChunk, len(blobs))]
		digests := make([]string, len(chunk))
		for i, f := range chunk {
			digests[i] = f.SHA1
		}
		miss, err := d.MissingBlobs(ctx, app, digests)
		if err != nil {
			return nil, fmt.Errorf("asking the host which files it lacks: %w", err)
		}
		if len(miss) == 0 {
			continue // an unchanged redeploy: no index of the chunk needed
		}
		byDigest := make(map[string]int, len(chunk))
		for i, f := range chunk {
			byDigest[f.SHA1] = i
		}
		for _, d := range miss {
			i, ok := byDigest[d]
			if !ok {
				return nil, fmt.Errorf("the host reported an unknown missing digest %s", d)
			}
			out = append(out, chunk[i])
		}
	}
	return out, nil
}

// sendBlobs sends the missing contents and confirms them with those the host
// stored while hashing (stored: there were some; then an empty upload shows
// no phase of its own).
func sendBlobs(ctx context.Context, b backend.Backend, d backend.Deployer, opts Options, missing []hashed, stored bool, rep progress.Reporter) error {
	var total int64
	for _, f := range missing {
		total += f.Size()
	}
	if len(missing) > 0 || !stored {
		rep.Phase("uploading", int64(len(missing)), total)
	}
	workers := uploadWorkers(b, opts)
	// Biggest first: the long transfers start early and the tail is short.
	order := make([]hashed, len(missing))
	copy(order, missing)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Size() > order[j].Size() })

	p := newStorePool(ctx, blobSyncer(b, d), workers)
	for _, f := range order {
		err := p.Go(f.Size()+blobOverhead, func(ctx context.Context) error {
			return sendOne(ctx, d, opts.App, opts.Root, f, rep)
		})
		if err != nil {
			return err
		}
	}
	return p.Wait()
}

// uploadWorkers is how many contents are sent at once.
func uploadWorkers(b backend.Backend, opts Options) int {
	if opts.UploadWorkers > 0 {
		return opts.UploadWorkers
	}
	return max(b.Properties().Connections, 1)
}

// hashWorkers is how many files are hashed at once: HashWorkers, except
// where a remote host ingests them, each one an upload bound by its round
// trip rather than by a CPU: then as many as are sent at once.
func hashWorkers(b backend.Backend, opts Options, ing *ingester) int {
	if ing != nil && !b.Properties().Local {
		return max(opts.HashWorkers, uploadWorkers(b, opts))
	}
	return opts.HashWorkers
}

// blobSyncer returns the host's BlobSyncer, nil when it has none.
func blobSyncer(b backend.Backend, d backend.Deployer) backend.BlobSyncer {
	if s, ok := d.(backend.BlobSyncer); ok {
		return s
	}
	s, _ := b.(backend.BlobSyncer)
	return s
}

// storePool runs a deploy's stores of blobs on a bounded number of
// goroutines and, on a BlobSyncer host, confirms what they stored every
// syncEvery (weighted) and at the end, so an interruption later loses at
// most one batch. Its workers live as long as the pool and take the stores
// one after another: a goroutine per store (as errgroup's Go starts) grew
// a fresh stack through net/http for each of thousands of files, about 5%
// of a first deploy's CPU in morestack.
type storePool struct {
	ctx     context.Context
	syncer  backend.BlobSyncer // nil: the host confirms each store itself
	workers int
	gctx    context.Context // the stores': ended by the first failure
	cancel  context.CancelCauseFunc
	stores  chan func(ctx context.Context) error
	started int            // workers running
	pending sync.WaitGroup // stores handed out and not done
	since   int64          // weight stored since the last confirmation
	closed  bool           // by Wait: the workers end

	mu  sync.Mutex
	err error // the first store's error
}

func newStorePool(ctx context.Context, syncer backend.BlobSyncer, workers int) *storePool {
	p := &storePool{ctx: ctx, syncer: syncer, workers: max(workers, 1), stores: make(chan func(context.Context) error)}
	p.gctx, p.cancel = context.WithCancelCause(ctx)
	return p
}

// Go runs store on a worker, first confirming the stores before it when a
// batch is due (waiting for those in flight). It returns an error once a
// store failed or ctx ended, with the pool done as after Wait; the caller
// stops and returns it.
func (p *storePool) Go(weight int64, store func(ctx context.Context) error) error {
	if p.gctx.Err() != nil {
		return p.Wait()
	}
	if p.syncer != nil && p.since >= syncEvery {
		p.pending.Wait()
		if err := p.failed(); err != nil {
			p.shut()
			return p.stopped(err)
		}
		if err := p.syncer.SyncBlobs(p.ctx); err != nil {
			p.shut()
			return fmt.Errorf("confirming uploaded files: %w", err)
		}
		p.since = 0
	}
	p.since += weight
	p.pending.Add(1)
	if p.started < p.workers {
		p.started++
		go p.work()
	}
	p.stores <- store // waits for a free worker, as errgroup's limit did
	return nil
}

// work runs stores until the pool is closed; the first failure ends gctx,
// so the stores after it stop at once.
func (p *storePool) work() {
	for store := range p.stores {
		if err := p.run(store); err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = err
				p.cancel(err)
			}
			p.mu.Unlock()
		}
		p.pending.Done()
	}
}

func (p *storePool) run(store func(ctx context.Context) error) (err error) {
	defer crash.Recover(&err)
	return store(p.gctx)
}

func (p *storePool) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Wait waits for the stores and confirms them; an error says why a store
// or the deploy stopped, after what was stored before was confirmed. The
// pool is done then: its workers end, and a later Go returns Wait's
// answer again without running its store (as errgroup's ended context
// did).
func (p *storePool) Wait() error {
	p.pending.Wait()
	p.shut()
	if err := p.failed(); err != nil {
		return p.stopped(err)
	}
	if err := p.ctx.Err(); err != nil {
		return p.stopped(err)
	}
	if p.syncer != nil {
		if err := p.syncer.SyncBlobs(p.ctx); err != nil {
			return fmt.Errorf("confirming uploaded files: %w", err)
		}
	}
	return nil
}

// shut ends the pool, no store being pending: its workers end, and so
// does its stores' context, so a later Go goes to Wait.
func (p *storePool) shut() {
	if !p.closed {
		p.closed = true
		close(p.stores)
		p.cancel(nil)
	}
}

// stopped confirms what was stored before a failure or an interruption
// stops the deploy (on a fresh context: the deploy's may be cancelled), so
// that running it again does not send it again.
func (p *storePool) stopped(err error) error {
	if p.syncer != nil {
		_ = p.syncer.SyncBlobs(context.WithoutCancel(p.ctx)) // err says why the deploy stopped
	}
	return err
}

// syncEvery is how much is sent between confirmations on a BlobSyncer
// backend; blobOverhead weighs each file's fixed cost, so many small files
// also trigger a sync.
const (
	syncEvery    = 64 << 20
	blobOverhead = 32 << 10
)

func sendOne(ctx context.Context, d backend.Deployer, app, root string, f hashed, rep progress.Reporter) error {
	data := f.Data()
	var r io.ReadCloser = io.NopCloser(bytes.NewReader(data))
	if data == nil {
		var err error
		if r, err = hashcache.OpenListed(f.Abs(root), f.Info); err != nil {
			return fmt.Errorf("cannot read %s: %w", human.Path(f.Path), unwrapPath(err))
		}
	}
	defer r.Close()
	err := d.PutBlob(ctx, app, f.SHA1, f.Size(), progress.Reader{R: r, Rep: rep})
	if errors.Is(err, backend.ErrDigestMismatch) {
		return fmt.Errorf("%s changed while being deployed; run the deploy again: %w", human.Path(f.Path), err)
	}
	if err != nil {
		return fmt.Errorf("uploading %s: %w", human.Path(f.Path), err)
	}
	rep.Add(1, 0)
	return nil
}

// unchanged reports whether the host already holds the version with the
// same manifest and configuration (backend.VersionMatcher). A host that
// cannot tell, or fails to, gets the version created as usual.
func unchanged(ctx context.Context, b backend.Backend, opts Options, files []backend.FileRef) (bool, error) {
	m, ok := b.(backend.VersionMatcher)
	if !ok {
		return false, nil
	}
	same, err := m.SameVersion(ctx, spec(opts, files))
	if err != nil {
		return false, ctx.Err() // only a cancellation stops the deploy
	}
	// A stopped version is created again, which starts it, as a
	// redeploy always did.
	if vs, ok := b.(backend.Versions); same && ok {
		if v, err := vs.Version(ctx, opts.App, opts.Service, opts.Version); err == nil && v.ServingStatus == backend.Stopped {
			return false, nil
		}
	}
	return same, nil
}

// unchangedStatus says that an unchanged version was left as it is.
func unchangedStatus(opts Options) string {
	return fmt.Sprintf("Version %s of service %s is unchanged (the same files and configuration): nothing is sent or created.", opts.Version, opts.Service)
}

// liveAsIs returns the version when the host tells, without writing, that
// it is live exactly as this deploy would leave it (backend.LiveChecker):
// the same files and configuration, every content held, no deploy of it
// in flight, and (unless NoPromote) all of its service's traffic. A host
// that cannot tell, or fails to, gets the usual deploy, which finds the
// same answer under the version's lock.
func liveAsIs(ctx context.Context, b backend.Backend, opts Options, files []backend.FileRef) (*backend.Version, bool, error) {
	lc, ok := b.(backend.LiveChecker)
	if !ok || opts.DryRun {
		return nil, false, nil
	}
	v, live, err := lc.LiveAsIs(ctx, spec(opts, files), !opts.NoPromote)
	if err != nil || !live {
		return nil, false, ctx.Err() // only a cancellation stops the deploy
	}
	return &v, true, nil
}

// spec is the version opts deploys with files (hashFiles' list, which the
// host only reads).
func spec(opts Options, files []backend.FileRef) backend.VersionSpec {
	return backend.VersionSpec{
		App: opts.App, Service: opts.Service, Version: opts.Version,
		Runtime: opts.Runtime, Model: opts.Model, Files: files,
	}
}
