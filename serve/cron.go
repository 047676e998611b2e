package serve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/groc"
)

// What App Engine's cron service sends: its requests come from 0.1.0.2
// with this User-Agent, X-Appengine-Cron: true and the hidden queue's name
// (docs/runtimes.md, "Set only by the platform").
const (
	cronAddr      = "0.1.0.2"
	cronUserAgent = "AppEngine-Google; (+http://code.google.com/appengine)"
	cronQueue     = "__cron"
)

// The retry defaults of a job with retry_parameters that leave some out,
// as Cloud Scheduler, which runs App Engine's cron.yaml today, has them.
const (
	cronMinBackoff   = 5 * time.Second
	cronMaxBackoff   = time.Hour
	cronMaxDoublings = 5
)

// cronReload is how often the deployed cron.yaml is read again by
// default, so update_cron takes effect while serve runs.
const cronReload = 5 * time.Second

// deployedCron names the deployed cron.yaml in messages: the store's copy,
// whose lines are those of the document update_cron pushed.
const deployedCron = "the deployed cron.yaml"

// Clock is the time the cron runner goes by; tests give a fake one so that
// no test waits for a schedule.
type Clock interface {
	Now() time.Time
	// SleepUntil waits until t, or until ctx ends, and reports whether t
	// came.
	SleepUntil(ctx context.Context, t time.Time) bool
}

// CronOptions tune Server.RunCron.
type CronOptions struct {
	// RunNow runs every job once at start, then on its schedule (serve
	// --cron_run_now: a cron handler tried without waiting for its time).
	RunNow bool
	// Clock is the runner's time (the real clock when nil).
	Clock Clock
	// Reload is how often the deployed cron.yaml is read again (5s when
	// zero).
	Reload time.Duration
	// Grace is how long runs in flight when ctx ends may still take
	// before their requests are cancelled (none when zero), so a stopping
	// serve records how they ended.
	Grace time.Duration
	// OnRun hears each run of a job, retries included.
	OnRun func(CronRun)
	// Notify hears what the runner does besides runs (jobs started,
	// stopped, no cron.yaml deployed).
	Notify func(string)
}

// CronRun is one run of a cron job: a request served and recorded as any
// other.
type CronRun struct {
	URL, Schedule, Target string
	// Retry is 0 for a scheduled run, n for its nth retry.
	Retry   int
	Status  int
	Latency time.Duration
	// Next is when the job runs next: its retry after a failure, else its
	// next scheduled run (zero when it never runs again).
	Next time.Time
}

// Failed reports whether App Engine counts the run as failed: any status
// outside 200-299.
func (r CronRun) Failed() bool { return r.Status < 200 || r.Status > 299 }

// cronJob is one job of the deployed cron.yaml, checked.
type cronJob struct {
	entry *appconfig.CronEntry
	host  string // the Host its requests carry, which routes them
	retry *cronRetry
}

// cronRetry is a job's retry_parameters with Cloud Scheduler's defaults.
type cronRetry struct {
	limit         int64         // retries allowed (0: by age only)
	ageLimit      time.Duration // retrying ends this long after the first attempt (0: by count only)
	min, max      time.Duration
	doublings     int64
	unconstrained bool // neither limit given: no retries, as in Cloud Scheduler
}

// cronRunner runs the jobs of one application until its context ends.
type cronRunner struct {
	s     *Server
	opts  CronOptions
	clock Clock
}

// RunCron runs the jobs of the application's deployed cron.yaml on their
// schedules until ctx ends, as App Engine's cron service does: each run is
// a GET of the job's url through the server (ServePlatform), routed by its
// target and dispatch.yaml, served and recorded in the request logs like
// any request, with the cron service's headers. A job's next run is not
// started while its previous one (retries included) is still active. A
// job that cannot run (its schedule or timezone does not parse) is
// reported once through Config.OnError and the others run. The deployed
// cron.yaml is read again every opts.Reload, so update_cron takes effect.
// RunCron returns once every run it started has ended.
func (s *Server) RunCron(ctx context.Context, opts CronOptions) {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Reload <= 0 {
		opts.Reload = cronReload
	}
	if opts.OnRun == nil {
		opts.OnRun = func(CronRun) {}
	}
	if opts.Notify == nil {
		opts.Notify = func(string) {}
	}
	c := &cronRunner{s: s, opts: opts, clock: opts.Clock}
	// Runs outlive ctx by the grace period; scheduling stops with it.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(opts.Grace, cancel)
		context.AfterFunc(runCtx, func() { t.Stop() })
	})
	defer stop()
	c.run(ctx, runCtx)
}

// running is a job's goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *cronRunner) run(ctx, runCtx context.Context) {
	jobs := map[string]*running{}
	defer func() {
		for _, r := range jobs {
			r.cancel()
		}
		for _, r := range jobs {
			<-r.done
		}
	}()
	var last []byte
	first, failing := true, false
	for {
		doc, err := c.deployed(ctx)
		switch {
		case err != nil:
			// Once per failure streak; the jobs known keep running.
			if ctx.Err() == nil && !failing {
				c.s.cfg.OnError(fmt.Errorf("reading %s of %s: %w (the jobs known keep running; it is read again every %s)",
					deployedCron, c.s.cfg.App, err, c.opts.Reload))
			}
			failing = true
		case first || string(doc) != string(last):
			last = doc
			c.apply(ctx, runCtx, jobs, doc, first)
			first, failing = false, false
		default:
			failing = false
		}
		if !c.clock.SleepUntil(ctx, c.clock.Now().Add(c.opts.Reload)) {
			return
		}
	}
}

// deployed returns the stored cron.yaml, nil when none was deployed.
func (c *cronRunner) deployed(ctx context.Context) ([]byte, error) {
	if c.s.cfg.Configs == nil {
		return nil, nil
	}
	doc, err := c.s.cfg.Configs.Config(ctx, c.s.cfg.App, backend.ConfigCron)
	if errors.Is(err, backend.ErrNotFound) {
		return nil, nil
	}
	return doc, err
}

// apply starts the jobs of doc not running yet and stops those doc no
// longer lists; a job that stays keeps its schedule (and its run in
// flight).
func (c *cronRunner) apply(ctx, runCtx context.Context, jobs map[string]*running, doc []byte, first bool) {
	want := c.jobs(doc)
	for key, r := range jobs {
		if _, ok := want[key]; !ok {
			r.cancel()
			<-r.done
			delete(jobs, key)
		}
	}
	started := 0
	for key, j := range want {
		if jobs[key] != nil {
			continue
		}
		jctx, cancel := context.WithCancel(ctx)
		r := &running{cancel: cancel, done: make(chan struct{})}
		jobs[key] = r
		started++
		go func() {
			defer close(r.done)
			c.runJob(runCtx, jctx, j, first && c.opts.RunNow)
		}()
	}
	switch {
	case len(doc) == 0 && first:
		c.opts.Notify(fmt.Sprintf("cron: app %s has no cron.yaml deployed; --cron runs no job until update_cron pushes one", c.s.cfg.App))
	case first:
		c.opts.Notify(fmt.Sprintf("cron: running %d job(s) of %s", len(jobs), deployedCron))
	default:
		c.opts.Notify(fmt.Sprintf("cron: %s changed: %d job(s) now", deployedCron, len(jobs)))
	}
}

// jobs reads doc's jobs by a key that stays the same while the job does.
// Jobs that cannot run are reported, each once per document.
func (c *cronRunner) jobs(doc []byte) map[string]cronJob {
	out := map[string]cronJob{}
	if len(doc) == 0 {
		return out
	}
	info, problems := appconfig.ParseCron(deployedCron, doc)
	if info == nil {
		c.s.cfg.OnError(fmt.Errorf("%s of %s cannot be read (%v): --cron runs no job; fix cron.yaml and push it with appcfg update_cron",
			deployedCron, c.s.cfg.App, joinProblems(problems)))
		return out
	}
	for _, e := range info.Cron {
		if e == nil {
			continue
		}
		if _, _, err := groc.NextRuns(e.Schedule, e.Timezone, c.clock.Now(), 1); err != nil {
			c.s.cfg.OnError(fmt.Errorf("%s:%d: cron job %s: %w: it does not run; fix it in cron.yaml and push it with appcfg update_cron (the other jobs run)",
				deployedCron, e.Meta.Pos.Line, e.URL, err))
			continue
		}
		j := cronJob{entry: e, host: c.host(e.Target), retry: newCronRetry(e.RetryParameters)}
		key, _ := yaml.Marshal(e)
		k := string(key)
		for n := 2; out[k].entry != nil; n++ {
			// The same job twice runs twice, as App Engine would.
			k = fmt.Sprintf("%s#%d", key, n)
		}
		out[k] = j
	}
	return out
}

func joinProblems(ps []appconfig.Problem) string {
	var msgs []string
	for _, p := range ps {
		msgs = append(msgs, p.String())
	}
	return strings.Join(msgs, "; ")
}

// host is the Host of a job's requests. A target names a service (or a
// version of the default service), or is MODULE:VERSION in the legacy
// form; App Engine prepends it to the app's host name, which is what
// route reads. No target: the address serve was started with, so
// dispatch.yaml picks the service as for any request (runOnce applies it
// to the others).
func (c *cronRunner) host(target string) string {
	if target == "" {
		return firstNonEmpty(c.s.cfg.Addr, "localhost")
	}
	label := target
	if module, version, ok := strings.Cut(target, ":"); ok {
		label = version + "-dot-" + module
	}
	return label + "-dot-" + c.s.cfg.App + ".localhost"
}

// runJob runs one job on its schedule until jctx ends; runs use ctx, so a
// job dropped from cron.yaml, or a stopping serve, lets the run in flight
// finish.
func (c *cronRunner) runJob(ctx, jctx context.Context, j cronJob, now bool) {
	if now {
		c.runWithRetries(ctx, jctx, j)
	}
	for {
		last := c.clock.Now()
		next := c.next(j, last)
		if next.IsZero() {
			return
		}
		if !c.clock.SleepUntil(jctx, next) {
			return
		}
		// Runs due while this one was active are skipped: the next is
		// computed from its end (for a plain interval, App Engine's
		// "after the last job has completed").
		c.runWithRetries(ctx, jctx, j)
	}
}

// next is the job's next run strictly after t (zero: never again).
func (c *cronRunner) next(j cronJob, t time.Time) time.Time {
	runs, _, err := groc.NextRuns(j.entry.Schedule, j.entry.Timezone, t, 1)
	if err != nil || len(runs) == 0 {
		return time.Time{}
	}
	return runs[0]
}

// runWithRetries runs the job, and retries a failed run as its
// retry_parameters say, never past its next scheduled run.
func (c *cronRunner) runWithRetries(ctx, jctx context.Context, j cronJob) {
	first := c.clock.Now()
	deadline := c.next(j, first)
	for retry := 0; ; retry++ {
		run := c.runOnce(ctx, j)
		run.Retry = retry
		wait, again := j.retry.after(retry, c.clock.Now().Sub(first))
		again = again && run.Failed()
		if again {
			run.Next = c.clock.Now().Add(wait)
			if !deadline.IsZero() && !run.Next.Before(deadline) {
				again = false
			}
		}
		if !again {
			run.Next = c.next(j, c.clock.Now())
		}
		c.opts.OnRun(run)
		if !again || !c.clock.SleepUntil(jctx, run.Next) {
			return
		}
	}
}

// runOnce sends the job's request through the server and returns how it
// went.
func (c *cronRunner) runOnce(ctx context.Context, j cronJob) CronRun {
	e := j.entry
	run := CronRun{URL: e.URL, Schedule: e.Schedule, Target: e.Target}
	start := c.clock.Now()
	host := j.host
	if e.Target != "" {
		// dispatch.yaml re-routes a job whatever its target, as the
		// cron.yaml reference warns; without a target route applies it.
		path, _, _ := strings.Cut(e.URL, "?")
		if service := c.s.dispatchService(ctx, c.host(""), path); service != "" {
			host = c.host(service)
		}
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+e.URL, nil)
	if err != nil {
		// validate refuses such a url; a stored one is reported, not run.
		c.s.cfg.OnError(fmt.Errorf("cron job %s: %w", e.URL, err))
		run.Status = http.StatusBadRequest
		return run
	}
	r.RemoteAddr = cronAddr + ":0"
	r.Header.Set("X-Appengine-Cron", "true")
	r.Header.Set("X-Appengine-Queuename", cronQueue)
	r.Header.Set("X-Forwarded-For", cronAddr)
	r.Header.Set("User-Agent", cronUserAgent)
	w := &discard{h: http.Header{}}
	c.s.ServePlatform(w, r)
	run.Status = w.status
	if run.Status == 0 {
		run.Status = http.StatusOK
	}
	run.Latency = c.clock.Now().Sub(start)
	return run
}

// newCronRetry reads retry_parameters; nil when there are none (a failed
// run waits for the next scheduled one, as App Engine's default).
func newCronRetry(p *appconfig.CronRetryParameters) *cronRetry {
	if p == nil {
		return nil
	}
	r := &cronRetry{min: cronMinBackoff, max: cronMaxBackoff, doublings: cronMaxDoublings}
	if p.JobRetryLimit != nil {
		r.limit = *p.JobRetryLimit
	}
	if p.JobAgeLimit != "" {
		// validate refused a malformed one before update_cron stored it.
		r.ageLimit, _ = appconfig.ParseTimeValue(p.JobAgeLimit)
	}
	if p.MinBackoffSeconds != nil {
		r.min = seconds(*p.MinBackoffSeconds)
	}
	if p.MaxBackoffSeconds != nil {
		r.max = seconds(*p.MaxBackoffSeconds)
	}
	if r.max < r.min {
		r.max = r.min
	}
	if p.MaxDoublings != nil {
		r.doublings = *p.MaxDoublings
	}
	r.unconstrained = r.limit == 0 && r.ageLimit == 0
	return r
}

func seconds(f float64) time.Duration {
	if f <= 0 || math.IsNaN(f) {
		return 0
	}
	if f > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(f * float64(time.Second))
}

// after says whether a failed run that was retry number retry (0 the
// scheduled run), age after the first attempt, is retried, and after how
// long: the wait starts at min, doubles max_doublings times, then grows by
// that last step each time, up to max (Cloud Scheduler's backoff). Retries
// go on until both limits given are reached.
func (r *cronRetry) after(retry int, age time.Duration) (time.Duration, bool) {
	if r == nil || r.unconstrained {
		return 0, false
	}
	byCount := r.limit > 0 && int64(retry) < r.limit
	byAge := r.ageLimit > 0 && age < r.ageLimit
	if !byCount && !byAge {
		return 0, false
	}
	// In float seconds, so no shift or product overflows.
	d := float64(retry)
	steps := math.Pow(2, math.Min(d, float64(r.doublings)))
	if d > float64(r.doublings) {
		steps *= d - float64(r.doublings) + 1
	}
	wait := seconds(r.min.Seconds() * steps)
	if wait > r.max {
		wait = r.max
	}
	return wait, true
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
