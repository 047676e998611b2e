package instance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// Defaults of Config's durations and bounds.
const (
	defaultStartTimeout = 60 * time.Second
	defaultGrace        = 5 * time.Second
	defaultIdle         = 15 * time.Minute // automatic scaling
	basicIdle           = 5 * time.Minute  // basic scaling's idle_timeout default
	// maxCrashes in a row (each within crashWindow of its start) and the
	// instance stays down until backoffCap has passed since the last.
	maxCrashes  = 5
	crashWindow = 30 * time.Second
	backoffBase = 100 * time.Millisecond
	backoffCap  = 30 * time.Second
)

// Config tunes a Manager.
type Config struct {
	// CacheDir keeps what versions need prepared (venvs, node_modules, Go
	// binaries), kept between runs.
	CacheDir string
	// Getenv reads serve's environment, for the few variables an instance
	// inherits (os.Getenv when nil).
	Getenv func(string) string
	// AppPrefix is GAE_APPLICATION's region prefix ("dev" when empty, as
	// the SDK's dev server has it).
	AppPrefix string
	// StartTimeout bounds preparing and starting an instance, Grace how
	// long a stopping instance has between SIGTERM and SIGKILL, IdleTimeout
	// how long an automatic-scaling instance may wait for a request before
	// it is stopped.
	StartTimeout, Grace, IdleTimeout time.Duration
	// OnStart, when set, runs once each new instance listens, before any
	// request reaches it: the caller's warmup or start request.
	OnStart func(ctx context.Context, inst *Instance) error
	// Orphan hears lines an instance wrote while it served no request.
	Orphan func(Key, backend.AppLogLine)
	// Notify hears what the manager does (starts, crashes, stops).
	Notify func(string)
	// Now is the clock for log lines (time.Now when nil).
	Now func() time.Time
}

// Manager runs the instances of one application's versions: one instance
// per version, started on demand.
type Manager struct {
	cfg    Config
	prepMu sync.Mutex // one install or build at a time

	py27Once sync.Once // findPython27's answer
	py27     string
	py27Err  error

	mu     sync.Mutex
	slots  map[Key]*slot
	closed bool
}

// slot is one version's instance and its crash history.
type slot struct {
	start   sync.Mutex // one start at a time
	mu      sync.Mutex
	inst    *Instance
	crashes int
	crashed time.Time
	lastErr string
}

// Instance is a running process of a version.
type Instance struct {
	Spec Spec
	ID   string
	// Addr is the loopback host:port the instance listens on.
	Addr string

	p        *proc
	router   *logRouter
	stopping atomic.Bool
	lastUsed atomic.Int64 // unix nanoseconds
	active   atomic.Int64
}

// NewManager returns a manager; Close it to stop its instances.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.CacheDir == "" {
		return nil, errors.New("instance: a cache directory is required")
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.AppPrefix == "" {
		cfg.AppPrefix = "dev"
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = defaultStartTimeout
	}
	if cfg.Grace <= 0 {
		cfg.Grace = defaultGrace
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdle
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Orphan == nil {
		cfg.Orphan = func(Key, backend.AppLogLine) {}
	}
	if cfg.Notify == nil {
		cfg.Notify = func(string) {}
	}
	return &Manager{cfg: cfg, slots: map[Key]*slot{}}, nil
}

// Get returns the running instance of spec's version, starting one (after
// preparing the version) when none runs, the running one crashed, or the
// version was redeployed (spec.Dir changed).
func (m *Manager) Get(ctx context.Context, spec Spec) (*Instance, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("the local host is stopping")
	}
	sl := m.slots[spec.Key]
	if sl == nil {
		sl = &slot{}
		m.slots[spec.Key] = sl
	}
	m.mu.Unlock()

	if inst := sl.running(spec.Dir); inst != nil {
		return inst, nil
	}
	sl.start.Lock()
	defer sl.start.Unlock()
	if inst := sl.running(spec.Dir); inst != nil {
		return inst, nil
	}
	sl.mu.Lock()
	old := sl.inst
	sl.inst = nil
	sl.mu.Unlock()
	if old != nil {
		if old.Spec.Dir != spec.Dir {
			sl.mu.Lock()
			sl.crashes = 0
			sl.mu.Unlock()
		}
		m.stop(old, "replaced")
	}
	if err := sl.backoff(ctx, time.Now()); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Key, err)
	}
	inst, err := m.start(ctx, spec)
	if err != nil {
		sl.mu.Lock()
		sl.crashes++
		sl.crashed = time.Now()
		sl.lastErr = err.Error()
		sl.mu.Unlock()
		return nil, err
	}
	sl.mu.Lock()
	sl.inst = inst
	sl.mu.Unlock()
	go m.watch(sl, inst)
	return inst, nil
}

// running returns the slot's live instance of layout dir, or nil.
func (sl *slot) running(dir string) *Instance {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.inst != nil && sl.inst.Spec.Dir == dir && !sl.inst.p.exited() && !sl.inst.stopping.Load() {
		return sl.inst
	}
	return nil
}

// backoff waits out the delay the slot's crashes in a row call for, or
// refuses once there were too many.
func (sl *slot) backoff(ctx context.Context, now time.Time) error {
	sl.mu.Lock()
	n, last, lastErr := sl.crashes, sl.crashed, sl.lastErr
	sl.mu.Unlock()
	if n == 0 {
		return nil
	}
	if n >= maxCrashes {
		if now.Sub(last) < backoffCap {
			return fmt.Errorf("its instance failed %d times in a row, so it is not started again before %s; the last failure: %s",
				n, last.Add(backoffCap).Format(time.TimeOnly), lastErr)
		}
		return nil
	}
	wait := backoffBase << (n - 1)
	if d := time.Until(last.Add(wait)); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// start prepares the version and starts its process, returning once it
// listens and OnStart has run.
func (m *Manager) start(ctx context.Context, spec Spec) (*Instance, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.StartTimeout)
	defer cancel()
	l, err := m.prepare(ctx, spec)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("starting %s: picking a port: %w", spec.Key, err)
	}
	id := newInstanceID()
	inst := &Instance{Spec: spec, ID: id, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	inst.router = newLogRouter(m.cfg.Now, func(l backend.AppLogLine) { m.cfg.Orphan(spec.Key, l) })
	env := spec.environ(m.cfg.Getenv, m.cfg.AppPrefix, id, port, l.env)
	p, err := startProc(l.shell, spec.Dir, env, inst.router)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", spec.Key, err)
	}
	inst.p = p
	inst.touch(m.cfg.Now())
	if err := p.waitReady(ctx, port); err != nil {
		inst.stopping.Store(true)
		p.stop(m.cfg.Grace)
		return nil, fmt.Errorf("starting %s with `%s`: %w%s", spec.Key, l.shell, err, inst.lastWords())
	}
	// The address lets a user (or a benchmark) reach the instance directly.
	m.cfg.Notify(fmt.Sprintf("%s: instance %s started on %s (%s)", spec.Key, id, inst.Addr, l.shell))
	if m.cfg.OnStart != nil {
		if err := m.cfg.OnStart(ctx, inst); err != nil {
			inst.stopping.Store(true)
			p.stop(m.cfg.Grace)
			return nil, fmt.Errorf("starting %s: %w", spec.Key, err)
		}
	}
	return inst, nil
}

// lastWords are the lines a process wrote that no request took, for the
// message of a failed start.
func (inst *Instance) lastWords() string {
	inst.p.flush(inst.router)
	lines := inst.router.lastLines()
	if len(lines) == 0 {
		return ""
	}
	return "; its last output:\n  " + strings.Join(lines, "\n  ")
}

// watch notices an instance that exits on its own.
func (m *Manager) watch(sl *slot, inst *Instance) {
	<-inst.p.done
	if inst.stopping.Load() {
		return
	}
	now := time.Now()
	sl.mu.Lock()
	if now.Sub(inst.p.started) > crashWindow {
		sl.crashes = 0
	}
	sl.crashes++
	sl.crashed = now
	sl.lastErr = fmt.Sprintf("instance %s exited: %s%s", inst.ID, exitText(inst.p.exitErr), inst.lastWords())
	sl.mu.Unlock()
	m.cfg.Notify(fmt.Sprintf("%s: instance %s exited (%s); the next request starts a new one", inst.Spec.Key, inst.ID, exitText(inst.p.exitErr)))
}

// Refused handles an instance that refused a connection while its process
// still runs. One on its way out (npm outliving its crashed node, which
// can take seconds on a loaded machine) is given the stop grace period to
// end on its own, a wait that ends when it does, so its watcher reports the
// crash with its exit status; one still alive after it is stopped, as App
// Engine's failed health check would replace it. A wait of a fixed second
// stopped lingering npm processes under load, and their crashes went
// unreported (serve_node_crash_linger.txtar).
func (m *Manager) Refused(inst *Instance) {
	if !inst.WaitExit(m.cfg.Grace) {
		m.Stop(inst.Spec.Key, "it no longer accepts connections")
	}
}

// WaitExit waits up to d for the instance's process to end, and reports
// whether it did.
func (inst *Instance) WaitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-inst.p.reaped:
		return true
	case <-t.C:
		return false
	}
}

// Begin marks a request the instance starts serving; End returns the log
// lines the instance wrote for it.
func (inst *Instance) Begin(trace string) *Request {
	inst.active.Add(1)
	return inst.router.begin(trace)
}

// End ends a request Begin started, after reading what the instance wrote
// until now, and returns its log lines.
func (inst *Instance) End(req *Request, now time.Time) []backend.AppLogLine {
	inst.p.flush(inst.router)
	inst.touch(now)
	inst.active.Add(-1)
	return inst.router.end(req)
}

func (inst *Instance) touch(now time.Time) { inst.lastUsed.Store(now.UnixNano()) }

// Stop stops the instance of a version, if one runs.
func (m *Manager) Stop(k Key, why string) {
	m.mu.Lock()
	sl := m.slots[k]
	m.mu.Unlock()
	if sl == nil {
		return
	}
	sl.mu.Lock()
	inst := sl.inst
	sl.inst = nil
	sl.crashes = 0
	sl.mu.Unlock()
	if inst != nil {
		m.stop(inst, why)
	}
}

func (m *Manager) stop(inst *Instance, why string) {
	// One that exited on its own is its watcher's to report, with its
	// status: marked stopping, its crash went unreported.
	if inst.p.exited() || inst.stopping.Swap(true) {
		return
	}
	inst.p.stop(m.cfg.Grace)
	m.cfg.Notify(fmt.Sprintf("%s: instance %s stopped (%s)", inst.Spec.Key, inst.ID, why))
}

// Running lists the versions with a live instance and its layout.
func (m *Manager) Running() map[Key]string {
	m.mu.Lock()
	slots := make(map[Key]*slot, len(m.slots))
	for k, sl := range m.slots {
		slots[k] = sl
	}
	m.mu.Unlock()
	out := map[Key]string{}
	for k, sl := range slots {
		sl.mu.Lock()
		if sl.inst != nil && !sl.inst.p.exited() {
			out[k] = sl.inst.Spec.Dir
		}
		sl.mu.Unlock()
	}
	return out
}

// StopIdle stops the instances that served nothing for their idle
// timeout: automatic scaling's (Config.IdleTimeout) and basic scaling's
// (idle_timeout); manual scaling's run until stopped.
func (m *Manager) StopIdle(now time.Time) {
	m.mu.Lock()
	var insts []*Instance
	for _, sl := range m.slots {
		sl.mu.Lock()
		if sl.inst != nil {
			insts = append(insts, sl.inst)
		}
		sl.mu.Unlock()
	}
	m.mu.Unlock()
	for _, inst := range insts {
		idle := m.cfg.IdleTimeout
		switch inst.Spec.Scaling {
		case Manual:
			continue
		case Basic:
			idle = basicIdle
			if inst.Spec.IdleTimeout > 0 {
				idle = inst.Spec.IdleTimeout
			}
		}
		if inst.active.Load() == 0 && now.Sub(time.Unix(0, inst.lastUsed.Load())) >= idle {
			m.Stop(inst.Spec.Key, "idle")
		}
	}
}

// Close stops every instance (SIGTERM, then SIGKILL after the grace
// period), all at once; no instance starts afterwards.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	keys := make([]Key, 0, len(m.slots))
	for k := range m.slots {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Stop(k, "serve is stopping")
		}()
	}
	wg.Wait()
}

func newInstanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "00c61b117c" + hex.EncodeToString(b[:])
}
