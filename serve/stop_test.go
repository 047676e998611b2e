package serve_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/appcfg/appcfg/serve"
	"github.com/appcfg/appcfg/serve/instance"
)

// onTerm makes the test app answer SIGTERM as spec says: "ignore" it, or
// finish its work (200ms), write the file spec names and exit.
func onTerm(spec string) {
	if spec == "" {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	go func() {
		<-ch
		if spec == "ignore" {
			select {}
		}
		time.Sleep(200 * time.Millisecond)
		_ = os.WriteFile(spec, []byte("drained"), 0o644)
		os.Exit(0)
	}()
}

// stopFixture serves the test app with SERVE_TEST_TERM=term and the given
// grace; the test closes the server itself.
func stopFixture(t *testing.T, term string, grace time.Duration) *fixture {
	t.Helper()
	f := newFixture(t)
	deploy(t, f.store, "default", "v2", appYAML(t, "  SERVE_TEST_TERM: \""+term+"\"\n"), appFiles)
	if err := f.store.SetTraffic(t.Context(), "shop", "default", map[string]float64{"v2": 1}, false); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(serve.Config{App: "shop", Versions: f.store, Contents: f.store, Logs: f.store, Files: f.store,
		Now: time.Now, OnError: func(err error) { t.Error(err) },
		Instances: &instance.Config{CacheDir: t.TempDir(), Grace: grace, StartTimeout: 20 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f
}

// Stopping serve sends its instances SIGTERM and lets them finish within
// the grace period; one that ignores SIGTERM is killed when it ends.
func TestServeStopGivesInstancesGrace(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "drained")
	f := stopFixture(t, marker, 5*time.Second)
	pid := pidOf(t, f.do(t, http.MethodGet, "http://localhost/").body)
	start := time.Now()
	if err := f.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= 5*time.Second {
		t.Errorf("Close took %v: the instance that exited on SIGTERM was waited for the whole grace", took)
	}
	if data, err := os.ReadFile(marker); err != nil || string(data) != "drained" {
		t.Errorf("the instance did not finish its SIGTERM work: %q %v", data, err)
	}
	waitDead(t, pid, "serve stopped")

	f = stopFixture(t, "ignore", 500*time.Millisecond)
	pid = pidOf(t, f.do(t, http.MethodGet, "http://localhost/").body)
	start = time.Now()
	if err := f.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took < 500*time.Millisecond || took > 5*time.Second {
		t.Errorf("Close took %v with an instance ignoring SIGTERM; want the 500ms grace, then SIGKILL", took)
	}
	waitDead(t, pid, "its grace period")
}

// The instance gets X-Forwarded-For (the client's address), as App
// Engine's front end sets it; a cron run's is 0.1.0.2.
func TestInstanceGetsForwardedFor(t *testing.T) {
	f := instanceFixture(t, "")
	r := httpReq(t, f, "http://localhost/headers", map[string]string{"X-Forwarded-For": "203.0.113.9"})
	var h http.Header
	if err := json.Unmarshal([]byte(r.body), &h); err != nil {
		t.Fatalf("%d %q: %v", r.status, r.body, err)
	}
	if got := h.Values("X-Forwarded-For"); len(got) != 1 || got[0] != "192.0.2.1" {
		t.Errorf("X-Forwarded-For %q, want the client's address 192.0.2.1 (not the one it forged)", got)
	}
}
