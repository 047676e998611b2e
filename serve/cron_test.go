package serve_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/serve"
)

// fakeClock is a cron clock the test moves: sleepers wake when Advance
// passes their time, so no test waits for a schedule.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	sleepers map[chan struct{}]time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, sleepers: map[chan struct{}]time.Time{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) bool {
	c.mu.Lock()
	if !t.After(c.now) {
		c.mu.Unlock()
		return ctx.Err() == nil
	}
	ch := make(chan struct{})
	c.sleepers[ch] = t
	c.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.sleepers, ch)
		c.mu.Unlock()
		return false
	}
}

// Advance moves the time by d and wakes the sleepers it passes.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for ch, t := range c.sleepers {
		if !t.After(c.now) {
			close(ch)
			delete(c.sleepers, ch)
		}
	}
}

// waitSleeping waits (bounded) until n goroutines sleep on the clock: the
// runner is idle until the next Advance.
func (c *fakeClock) waitSleeping(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		got := len(c.sleepers)
		c.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Fatalf("%d goroutines sleep on the clock, want %d", len(c.sleepers), n)
}

// cronFixture serves the site fixture's store on a fake clock and runs its
// cron jobs in the background; runs arrive on the returned channel.
type cronFixture struct {
	*fixture
	clock  *fakeClock
	runs   chan serve.CronRun
	errs   chan error
	cancel context.CancelFunc
	done   chan struct{}
}

func newCronFixture(t *testing.T, cronYAML string, cfg serve.Config, opts serve.CronOptions) *cronFixture {
	t.Helper()
	f := newFixture(t)
	return startCron(t, f, cronYAML, cfg, opts)
}

func startCron(t *testing.T, f *fixture, cronYAML string, cfg serve.Config, opts serve.CronOptions) *cronFixture {
	t.Helper()
	if cronYAML != "" {
		if err := f.store.PutConfig(t.Context(), "shop", backend.ConfigCron, []byte(cronYAML)); err != nil {
			t.Fatal(err)
		}
	}
	c := &cronFixture{fixture: f, clock: newFakeClock(f.now), runs: make(chan serve.CronRun, 100), errs: make(chan error, 100), done: make(chan struct{})}
	cfg.App, cfg.Versions, cfg.Logs = "shop", f.store, f.store
	if cfg.Contents == nil {
		cfg.Contents = f.store
	}
	if cfg.Configs == nil {
		cfg.Configs = f.store
	}
	cfg.Now = c.clock.Now
	cfg.Addr = "localhost:8080"
	cfg.OnError = func(err error) { c.errs <- err }
	srv, err := serve.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.srv = srv
	opts.Clock = c.clock
	if opts.Reload == 0 {
		opts.Reload = time.Minute
	}
	opts.OnRun = func(r serve.CronRun) { c.runs <- r }
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		srv.RunCron(ctx, opts)
	}()
	t.Cleanup(func() {
		c.stop(t)
		if err := srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return c
}

// stop ends the runner and waits (bounded) for it to return.
func (c *cronFixture) stop(t *testing.T) {
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunCron still runs 10s after its context ended")
	}
}

// run waits (bounded) for the next run.
func (c *cronFixture) run(t *testing.T) serve.CronRun {
	t.Helper()
	select {
	case r := <-c.runs:
		return r
	case err := <-c.errs:
		t.Fatalf("error instead of a run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no cron run within 20s")
	}
	return serve.CronRun{}
}

func (c *cronFixture) noRun(t *testing.T) {
	t.Helper()
	select {
	case r := <-c.runs:
		t.Fatalf("unexpected run %+v at %v", r, c.clock.Now())
	case err := <-c.errs:
		t.Fatalf("unexpected error: %v", err)
	default:
	}
}

func (c *cronFixture) logs(t *testing.T) []backend.RequestLog {
	t.Helper()
	var logs []backend.RequestLog
	err := c.store.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: c.clock.Now().Add(24 * time.Hour)}, func(l backend.RequestLog) error {
		logs = append(logs, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return logs
}

// A job runs on its schedule, not before, through the server: routed,
// served (a login: page too, as the cron service counts as an
// administrator) and recorded with the cron service's address and agent.
func TestCronRunsOnScheduleAndIsLogged(t *testing.T) {
	c := newCronFixture(t, `cron:
- url: /account/css/site.css
  schedule: every 5 minutes
`, serve.Config{}, serve.CronOptions{})
	c.clock.waitSleeping(t, 2) // the reload loop and the job
	c.clock.Advance(4 * time.Minute)
	c.clock.waitSleeping(t, 2)
	c.noRun(t)
	c.clock.Advance(time.Minute)
	r := c.run(t)
	if r.Status != 200 || r.URL != "/account/css/site.css" || r.Retry != 0 || !r.Next.Equal(c.clock.Now().Add(5*time.Minute)) {
		t.Errorf("run %+v at %v: want 200, next in 5 minutes", r, c.clock.Now())
	}
	logs := c.logs(t)
	if len(logs) != 1 {
		t.Fatalf("%d request logs, want the cron run's: %+v", len(logs), logs)
	}
	l := logs[0]
	if l.Resource != "/account/css/site.css" || l.Status != 200 || l.Method != "GET" || l.IP != "0.1.0.2" ||
		l.UserAgent != "AppEngine-Google; (+http://code.google.com/appengine)" || l.Service != "default" || l.Version != "v1" {
		t.Errorf("the cron run's log: %+v", l)
	}
}

// Without retry_parameters a failed run waits for the next scheduled one;
// with them it is retried with Cloud Scheduler's backoff (doubling
// max_doublings times, then growing linearly, capped) until the limit.
func TestCronRetriesFailedRuns(t *testing.T) {
	c := newCronFixture(t, `cron:
- url: /static/missing.css
  schedule: every 24 hours
  retry_parameters:
    job_retry_limit: 7
    min_backoff_seconds: 10
    max_backoff_seconds: 300
    max_doublings: 3
- url: /static/gone.css
  schedule: every 24 hours
`, serve.Config{}, serve.CronOptions{})
	c.clock.waitSleeping(t, 3)
	c.clock.Advance(24 * time.Hour)
	due := c.clock.Now()
	var waits []time.Duration
	for range 9 {
		r := c.run(t)
		if r.Status != 404 {
			t.Fatalf("run %+v: want 404", r)
		}
		if r.URL == "/static/gone.css" {
			if r.Retry != 0 || !r.Next.Equal(due.Add(24*time.Hour)) {
				t.Errorf("a job without retry_parameters: %+v, want no retry", r)
			}
			continue
		}
		if r.Retry != len(waits) {
			t.Fatalf("run %+v: want retry %d", r, len(waits))
		}
		wait := r.Next.Sub(c.clock.Now())
		if r.Retry == 7 {
			// A plain interval counts from the end of the last run (to
			// the whole minute).
			if wait <= 24*time.Hour-time.Minute || wait > 24*time.Hour {
				t.Errorf("after the last retry the job waits %v, want its next scheduled run", wait)
			}
			break
		}
		waits = append(waits, wait)
		c.clock.waitSleeping(t, 3)
		c.clock.Advance(wait)
	}
	want := []time.Duration{10, 20, 40, 80, 160, 240, 300}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(waits, want) {
		t.Errorf("retry waits %v, want %v", waits, want)
	}
	n := 0
	for _, l := range c.logs(t) {
		if l.Resource == "/static/missing.css" {
			n++
		}
	}
	if n != 8 {
		t.Errorf("%d logged runs of the retried job, want 8 (a run and 7 retries)", n)
	}
}

// blockingContents holds the reads of one blob until released, so a run
// stays active as long as the test wants.
type blockingContents struct {
	backend.Contents
	entered chan struct{}
	release chan struct{}
}

func (b *blockingContents) OpenBlob(ctx context.Context, app, digest string) (io.ReadCloser, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return b.Contents.OpenBlob(ctx, app, digest)
}

// A run still active when the job is due again is not joined by a second
// one: the next run is computed from the end of the active one.
func TestCronRunsDoNotOverlap(t *testing.T) {
	f := newFixture(t)
	bc := &blockingContents{Contents: f.store, entered: make(chan struct{}, 10), release: make(chan struct{})}
	c := startCron(t, f, "cron:\n- url: /static/css/site.css\n  schedule: every 1 minutes\n", serve.Config{Contents: bc}, serve.CronOptions{})
	c.clock.waitSleeping(t, 2)
	c.clock.Advance(time.Minute)
	select {
	case <-bc.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not start")
	}
	for range 5 {
		c.clock.waitSleeping(t, 1) // the reload loop only: the job is busy
		c.clock.Advance(time.Minute)
	}
	if n := len(bc.entered); n != 0 {
		t.Fatalf("%d more runs started while the first was active", n)
	}
	close(bc.release)
	r := c.run(t)
	if r.Status != 200 || !r.Next.Equal(c.clock.Now().Add(time.Minute)) {
		t.Errorf("run %+v at %v: want 200, the next a minute after its end", r, c.clock.Now())
	}
	c.clock.waitSleeping(t, 2)
	c.noRun(t)
	c.clock.Advance(time.Minute)
	<-bc.entered
	if r := c.run(t); r.Status != 200 {
		t.Errorf("second run %+v", r)
	}
}

// A job whose schedule does not parse is reported once, with the line of
// the deployed cron.yaml and what to do; the other jobs run.
func TestCronBadScheduleReportedOnce(t *testing.T) {
	c := newCronFixture(t, `cron:
- url: /static/css/site.css
  schedule: every 1 minutes
- url: /static/bad.css
  schedule: every fortnight
`, serve.Config{}, serve.CronOptions{})
	var err error
	select {
	case err = <-c.errs:
	case <-time.After(20 * time.Second):
		t.Fatal("the bad schedule was not reported")
	}
	for _, want := range []string{"the deployed cron.yaml:4:", "/static/bad.css", "every fortnight", "update_cron"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report %q lacks %q", err, want)
		}
	}
	for range 3 { // past reloads of the same document
		c.clock.waitSleeping(t, 2)
		c.clock.Advance(time.Minute)
		if r := c.run(t); r.URL != "/static/css/site.css" || r.Status != 200 {
			t.Errorf("the good job: %+v", r)
		}
	}
	c.noRun(t)
}

// target names the service (or MODULE:VERSION); no target lets
// dispatch.yaml pick the service as for any request.
func TestCronTargetRoutes(t *testing.T) {
	f := routingFixture(t)
	deployStaticPrefix(t, f, "api", "a2", "api", map[string]string{"api/hello": "from api", "api/other": "other"})
	if err := f.store.PutConfig(t.Context(), "shop", backend.ConfigDispatch, []byte("dispatch:\n- url: \"*/hello\"\n  service: api\n")); err != nil {
		t.Fatal(err)
	}
	c := startCron(t, f, `cron:
- url: /hello?via=api
  schedule: every 1 minutes
  target: api
- url: /other
  schedule: every 2 minutes
  target: api:a2
- url: /hello?via=none
  schedule: every 3 minutes
- url: /hello?via=v2
  schedule: every 4 minutes
  target: v2
`, serve.Config{}, serve.CronOptions{RunNow: true})
	for range 4 {
		if r := c.run(t); r.Status != 200 {
			t.Errorf("run %+v: want 200", r)
		}
	}
	got := map[string]string{}
	for _, l := range c.logs(t) {
		got[l.Resource] = l.Host + " " + l.Service + "/" + l.Version
	}
	want := map[string]string{
		"/hello?via=api":  "api-dot-shop.localhost api/a1",
		"/other":          "a2-dot-api-dot-shop.localhost api/a2",
		"/hello?via=none": "localhost:8080 api/a1",
		// dispatch.yaml re-routes a job whatever its target, as the
		// cron.yaml reference warns.
		"/hello?via=v2": "api-dot-shop.localhost api/a1",
	}
	if len(got) != len(want) {
		t.Errorf("logged runs %v, want %v", got, want)
	}
	for res, hs := range want {
		if got[res] != hs {
			t.Errorf("%s: host and version %q, want %q", res, got[res], hs)
		}
	}
}

// The deployed cron.yaml is read again: update_cron's jobs start, the
// jobs it dropped stop.
func TestCronReloadsDeployedConfig(t *testing.T) {
	c := newCronFixture(t, "cron:\n- url: /static/css/site.css\n  schedule: every 1 minutes\n", serve.Config{},
		serve.CronOptions{Reload: 90 * time.Second})
	c.clock.waitSleeping(t, 2)
	c.clock.Advance(time.Minute)
	if r := c.run(t); r.URL != "/static/css/site.css" {
		t.Errorf("run %+v, want the first job's", r)
	}
	c.clock.waitSleeping(t, 2)
	if err := c.store.PutConfig(t.Context(), "shop", backend.ConfigCron, []byte("cron:\n- url: /favicon.ico\n  schedule: every 2 minutes\n")); err != nil {
		t.Fatal(err)
	}
	// The reload at 1m30s starts the new job (next at 3m30s) and stops
	// the old one (due at 2m); 6 minutes more see 3 runs of the new job.
	for range 13 {
		c.clock.Advance(30 * time.Second)
		c.clock.waitSleeping(t, 2)
	}
	var urls []string
	for len(c.runs) > 0 {
		urls = append(urls, (<-c.runs).URL)
	}
	if !slices.Equal(urls, []string{"/favicon.ico", "/favicon.ico", "/favicon.ico"}) {
		t.Errorf("runs after update_cron: %v, want the new job's, every 2 minutes", urls)
	}
}

// --cron_run_now: every job runs once at start.
func TestCronRunNow(t *testing.T) {
	c := newCronFixture(t, "cron:\n- url: /static/css/site.css\n  schedule: every monday 09:00\n", serve.Config{}, serve.CronOptions{RunNow: true})
	r := c.run(t)
	if r.Status != 200 || r.Next.Weekday() != time.Monday || r.Next.Hour() != 9 {
		t.Errorf("run %+v: want 200 at once, next on a Monday at 09:00", r)
	}
}

// A run in flight when the runner's context ends may finish within the
// grace period and is recorded; RunCron returns once it has.
func TestCronStopLetsRunInFlightFinish(t *testing.T) {
	f := newFixture(t)
	bc := &blockingContents{Contents: f.store, entered: make(chan struct{}, 10), release: make(chan struct{})}
	c := startCron(t, f, "cron:\n- url: /static/css/site.css\n  schedule: every 1 minutes\n", serve.Config{Contents: bc},
		serve.CronOptions{RunNow: true, Grace: 10 * time.Second})
	select {
	case <-bc.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not start")
	}
	c.cancel()
	select {
	case <-c.done:
		t.Fatal("RunCron returned with a run in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(bc.release)
	c.stop(t)
	if r := c.run(t); r.Status != 200 {
		t.Errorf("the run in flight at stop: %+v, want 200", r)
	}
	if logs := c.logs(t); len(logs) != 1 || logs[0].Status != 200 {
		t.Errorf("logs %+v, want the run's 200", logs)
	}
}

// failingConfigs is a config store that cannot be read while failing.
type failingConfigs struct {
	backend.ConfigStore
	failing atomic.Bool
}

func (f *failingConfigs) Config(ctx context.Context, app string, kind backend.ConfigKind) ([]byte, error) {
	if f.failing.Load() {
		return nil, errors.New("disk on fire")
	}
	return f.ConfigStore.Config(ctx, app, kind)
}

// A store that cannot be read is reported once, not at every reload; the
// jobs start once it can be read.
func TestCronUnreadableStoreReportedOnce(t *testing.T) {
	f := newFixture(t)
	fc := &failingConfigs{ConfigStore: f.store}
	fc.failing.Store(true)
	c := startCron(t, f, "cron:\n- url: /static/css/site.css\n  schedule: every 1 minutes\n", serve.Config{Configs: fc}, serve.CronOptions{})
	select {
	case err := <-c.errs:
		if !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("report %q does not say why", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the unreadable store was not reported")
	}
	for range 3 {
		c.clock.waitSleeping(t, 1)
		c.clock.Advance(time.Minute)
	}
	c.clock.waitSleeping(t, 1)
	c.noRun(t) // and no second report
	fc.failing.Store(false)
	c.clock.Advance(time.Minute)
	c.clock.waitSleeping(t, 2)
	c.clock.Advance(time.Minute)
	if r := c.run(t); r.Status != 200 {
		t.Errorf("run %+v after the store recovered", r)
	}
}
