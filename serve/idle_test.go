package serve_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/serve"
	"github.com/appcfg/appcfg/serve/instance"
)

// stepClock is a clock the test moves by hand, safe for the server's
// goroutines to read.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// lifecycleFixture serves the test app (app.yaml with extra) as version v2
// of the default service on a clock the test moves, with Watch running
// every few milliseconds.
func lifecycleFixture(t *testing.T, extra string, traffic bool) (*fixture, *stepClock) {
	f, clock, _ := lifecycleFixtureStarts(t, extra, traffic)
	return f, clock
}

// lifecycleFixtureStarts is lifecycleFixture, also returning how many
// instances have started so far.
func lifecycleFixtureStarts(t *testing.T, extra string, traffic bool) (*fixture, *stepClock, func() int) {
	t.Helper()
	f := newFixture(t)
	deploy(t, f.store, "default", "v2", appYAML(t, extra), appFiles)
	// The fixture's python27 site is not part of these tests (Warm would
	// start it where Python 2.7 is installed).
	if err := f.store.SetServingStatus(t.Context(), "shop", "default", "v1", backend.Stopped); err != nil {
		t.Fatal(err)
	}
	if traffic {
		if err := f.store.SetTraffic(t.Context(), "shop", "default", map[string]float64{"v2": 1}, false); err != nil {
			t.Fatal(err)
		}
	}
	clock := &stepClock{now: f.now}
	var mu sync.Mutex
	starts := 0
	notify := func(msg string) {
		if strings.Contains(msg, " started ") {
			mu.Lock()
			starts++
			mu.Unlock()
		}
	}
	srv, err := serve.New(serve.Config{App: "shop", Versions: f.store, Contents: f.store, Logs: f.store, Files: f.store, Configs: f.store,
		Now: clock.Now, WatchEvery: 5 * time.Millisecond, OnError: func(err error) { t.Error(err) },
		Instances: &instance.Config{CacheDir: t.TempDir(), Grace: 2 * time.Second, StartTimeout: 20 * time.Second, Notify: notify}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Watch(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if err := srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return f, clock, func() int {
		mu.Lock()
		defer mu.Unlock()
		return starts
	}
}

// settle lets Watch look at the instances a few times (it runs every 5ms).
func settle() { time.Sleep(100 * time.Millisecond) }

// aliveAfter advances the clock by d, lets Watch look, and fails unless
// pid still runs.
func aliveAfter(t *testing.T, clock *stepClock, d time.Duration, pid int, why string) {
	t.Helper()
	clock.Advance(d)
	settle()
	if !alive(pid) {
		t.Fatalf("instance %d stopped %s", pid, why)
	}
}

// waitDead waits (bounded) for pid to end.
func waitDead(t *testing.T, pid int, why string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(pid) {
		t.Fatalf("instance %d still runs 10s after %s", pid, why)
	}
}

// An automatic-scaling instance idle for 15 minutes is stopped; the next
// request starts a new one.
func TestIdleAutomaticInstanceStopsAndRestarts(t *testing.T) {
	f, clock := lifecycleFixture(t, "", true)
	pid := pidOf(t, f.do(t, http.MethodGet, "http://localhost/").body)
	aliveAfter(t, clock, 14*time.Minute+59*time.Second, pid, "before its 15 idle minutes")
	r := f.do(t, http.MethodGet, "http://localhost/") // a request resets the idle time
	if got := pidOf(t, r.body); got != pid {
		t.Fatalf("a second instance (%d) answered while %d ran", got, pid)
	}
	aliveAfter(t, clock, 14*time.Minute, pid, "14 minutes after its last request")
	clock.Advance(time.Minute)
	waitDead(t, pid, "15 idle minutes")
	r = f.do(t, http.MethodGet, "http://localhost/")
	if r.status != 200 {
		t.Fatalf("after the idle stop: %d %q", r.status, r.body)
	}
	if again := pidOf(t, r.body); again == pid || !alive(again) {
		t.Errorf("after the idle stop, pid %d answered (alive %v); want a new instance", again, alive(again))
	}
}

// Basic scaling's idle_timeout is its instances' idle time.
func TestIdleBasicScalingHonoursIdleTimeout(t *testing.T) {
	f, clock := lifecycleFixture(t, "basic_scaling:\n  max_instances: 1\n  idle_timeout: 3m\n", true)
	pid := pidOf(t, f.do(t, http.MethodGet, "http://localhost/").body)
	aliveAfter(t, clock, 2*time.Minute+59*time.Second, pid, "before idle_timeout")
	clock.Advance(time.Second)
	waitDead(t, pid, "idle_timeout: 3m")
}

// Manual scaling's instances are never stopped for being idle.
func TestIdleManualScalingNeverStops(t *testing.T) {
	f, clock := lifecycleFixture(t, "manual_scaling:\n  instances: 1\n", true)
	pid := pidOf(t, f.do(t, http.MethodGet, "http://localhost/").body)
	aliveAfter(t, clock, 72*time.Hour, pid, "after 3 idle days, with manual scaling")
}

// Warm starts the instances before any request: with inbound_services:
// warmup they get /_ah/warmup, manual scaling /_ah/start (even without
// traffic); an automatic-scaling version without traffic is not started.
func TestWarmStartsInstancesBeforeTheFirstRequest(t *testing.T) {
	for _, tt := range []struct {
		name, extra string
		traffic     bool
		want        string // the start request logged, "" for no instance
	}{
		{"warmup", "inbound_services:\n- warmup\n", true, "/_ah/warmup"},
		{"manual", "manual_scaling:\n  instances: 1\n", false, "/_ah/start"},
		{"basic", "basic_scaling:\n  max_instances: 2\n", true, "/_ah/start"},
		{"automatic", "", true, "-"},
		{"no traffic", "inbound_services:\n- warmup\n", false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, _, starts := lifecycleFixtureStarts(t, tt.extra, tt.traffic)
			if err := f.srv.Warm(t.Context()); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.want != ""]; starts() != want {
				t.Errorf("Warm started %d instances, want %d", starts(), want)
			}
			var paths []string
			err := f.store.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: f.now.Add(time.Hour)}, func(l backend.RequestLog) error {
				paths = append(paths, l.Resource)
				if l.Status != 200 {
					t.Errorf("%s answered %d", l.Resource, l.Status)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			switch tt.want {
			case "":
				if len(paths) != 0 {
					t.Errorf("requests %v, want none", paths)
				}
				r := httpReq(t, f, "http://v2-dot-default.localhost/", nil)
				if r.status != 200 {
					t.Errorf("the version still answers on demand: %d %q", r.status, r.body)
				}
				return
			case "-":
				if len(paths) != 0 {
					t.Errorf("requests %v, want none (no warmup service)", paths)
				}
			default:
				if len(paths) != 1 || paths[0] != tt.want {
					t.Errorf("requests before the first client's: %v, want [%s]", paths, tt.want)
				}
			}
			// The instance runs already: the first request finds it
			// started, with no start request of its own.
			first := pidOf(t, f.do(t, http.MethodGet, "http://v2-dot-default.localhost/").body)
			if !alive(first) {
				t.Errorf("instance %d is not running", first)
			}
			n := 0
			_ = f.store.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: f.now.Add(time.Hour)}, func(l backend.RequestLog) error {
				n++
				return nil
			})
			if n != len(paths)+1 || starts() != 1 {
				t.Errorf("%d requests logged after the first client's, want %d, and %d instances started, want 1: the warm instance was not the one used",
					n, len(paths)+1, starts())
			}
		})
	}
}
