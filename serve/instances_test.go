package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/serve"
	"github.com/appcfg/appcfg/serve/instance"
)

// The instance tests run this test binary as the app (SERVE_TEST_APP set
// by the app.yaml's env_variables), so they need no runtime installed.

func TestMain(m *testing.M) {
	if os.Getenv("SERVE_TEST_APP") != "" {
		runTestApp()
		return
	}
	os.Exit(m.Run())
}

// runTestApp is the app: it answers with what it was told, logs on
// demand and crashes on demand.
func runTestApp() {
	onTerm(os.Getenv("SERVE_TEST_TERM"))
	mux := http.NewServeMux()
	hello := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s/%s pid %d", os.Getenv("GAE_SERVICE"), os.Getenv("GAE_VERSION"), os.Getpid())
	}
	mux.HandleFunc("/", hello)
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(os.Environ())
	})
	headers := func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(r.Header) }
	mux.HandleFunc("/headers", headers)
	mux.HandleFunc("/admin/headers", headers)
	mux.HandleFunc("/log", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(`{"severity":"ERROR","message":"structured trouble"}`)
		fmt.Fprintln(os.Stderr, "a plain line")
		fmt.Fprint(w, "logged")
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("about to crash")
		os.Exit(3)
	})
	mux.HandleFunc("/_ah/warmup", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("warming up")
		fmt.Fprint(w, "warm")
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// appYAML is a second-generation version whose entrypoint is this binary.
func appYAML(t testing.TB, extra string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`runtime: go125
entrypoint: %s -test.run=^$
env_variables:
  SERVE_TEST_APP: "1"
  GREETING: hi
  PORT: "1"
%shandlers:
- url: /static
  static_dir: static
- url: /admin/.*
  script: auto
  login: admin
`, exe, extra)
}

var appFiles = map[string]string{"static/site.css": "body{}"}

// instanceFixture deploys the test app as version v1 of service default
// and serves it with instances.
func instanceFixture(t testing.TB, extra string) *fixture {
	return instanceFixtureWith(t, extra, instance.Config{})
}

// instanceFixtureWith is instanceFixture with ic's hooks (Notify, Orphan).
func instanceFixtureWith(t testing.TB, extra string, ic instance.Config) *fixture {
	t.Helper()
	f := newFixture(t)
	deploy(t, f.store, "default", "v2", appYAML(t, extra), appFiles)
	if err := f.store.SetTraffic(t.Context(), "shop", "default", map[string]float64{"v2": 1}, false); err != nil {
		t.Fatal(err)
	}
	ic.CacheDir, ic.Grace, ic.StartTimeout = t.TempDir(), 2*time.Second, 20*time.Second
	f.srv = f.server(t, serve.Config{Files: f.store, Configs: f.store, Instances: &ic})
	return f
}

func TestInstanceAnswersWithAppEngineEnvironment(t *testing.T) {
	t.Setenv("APPCFG_BACKEND", "local:/secret/place")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/secret/key.json")
	f := instanceFixture(t, "")
	r := f.do(t, http.MethodGet, "http://localhost/")
	if r.status != 200 || !strings.HasPrefix(r.body, "hello from default/v2 pid ") {
		t.Fatalf("/: %d %q, want the app's own answer", r.status, r.body)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/static/site.css"); r.body != "body{}" {
		t.Errorf("a static handler still serves from the store: %d %q", r.status, r.body)
	}
	var env []string
	if err := json.Unmarshal([]byte(f.do(t, http.MethodGet, "http://localhost/env").body), &env); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, want := range map[string]string{"GAE_APPLICATION": "dev~shop", "GAE_SERVICE": "default", "GAE_VERSION": "v2",
		"GAE_RUNTIME": "go125", "GAE_ENV": "standard", "GOOGLE_CLOUD_PROJECT": "shop", "GREETING": "hi"} {
		if got[k] != want {
			t.Errorf("%s=%q, want %q", k, got[k], want)
		}
	}
	if got["PORT"] == "" || got["PORT"] == "1" || got["GAE_INSTANCE"] == "" {
		t.Errorf("PORT=%q GAE_INSTANCE=%q: want serve's port (env_variables may not replace it) and an instance id", got["PORT"], got["GAE_INSTANCE"])
	}
	for _, k := range []string{"APPCFG_BACKEND", "GOOGLE_APPLICATION_CREDENTIALS"} {
		if _, ok := got[k]; ok {
			t.Errorf("serve's own %s reached the app", k)
		}
	}
}

func TestInstanceGetsAppEngineHeaders(t *testing.T) {
	f := instanceFixture(t, "")
	r := httpReq(t, f, "http://localhost/headers", map[string]string{"X-Appengine-User-Email": "forged@example.com", "X-Google-Foo": "x"})
	var h http.Header
	if err := json.Unmarshal([]byte(r.body), &h); err != nil {
		t.Fatalf("%d %q: %v", r.status, r.body, err)
	}
	if h.Get("X-Appengine-User-Email") != "" || h.Get("X-Google-Foo") != "" {
		t.Errorf("client-sent App Engine headers reached the app: %v", h)
	}
	if h.Get("X-Appengine-Country") != "ZZ" || !strings.Contains(h.Get("X-Cloud-Trace-Context"), "/") || h.Get("X-Appengine-User-Ip") == "" {
		t.Errorf("App Engine's headers missing: %v", h)
	}
	admin := signIn(t, f, true)
	r = f.do(t, http.MethodGet, "http://localhost/admin/headers", admin)
	if err := json.Unmarshal([]byte(r.body), &h); err != nil {
		t.Fatalf("%d %q: %v", r.status, r.body, err)
	}
	if h.Get("X-Appengine-User-Email") != "ann@example.com" || h.Get("X-Appengine-User-Is-Admin") != "1" || h.Get("X-Appengine-User-Id") == "" {
		t.Errorf("login: admin page without the user's headers: %v", h)
	}
}

func httpReq(t *testing.T, f *fixture, target string, hdr map[string]string) reply {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.RemoteAddr = "192.0.2.1:1234"
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	return reply{w.Code, w.Result().Header, string(body)}
}

func pidOf(t *testing.T, body string) int {
	t.Helper()
	var pid int
	if i := strings.LastIndex(body, " pid "); i < 0 {
		t.Fatalf("no pid in %q", body)
	} else if _, err := fmt.Sscan(body[i+5:], &pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestCrashedInstanceRestarts(t *testing.T) {
	f := instanceFixture(t, "")
	first := pidOf(t, f.do(t, http.MethodGet, "http://localhost/").body)
	f.errorsExpected = true
	if r := f.do(t, http.MethodGet, "http://localhost/crash"); r.status != http.StatusBadGateway {
		t.Errorf("/crash: %d, want 502", r.status)
	}
	r := f.do(t, http.MethodGet, "http://localhost/")
	if r.status != 200 {
		t.Fatalf("after the crash: %d %q", r.status, r.body)
	}
	if second := pidOf(t, r.body); second == first {
		t.Errorf("the crashed instance (pid %d) still answered", first)
	}
}

func TestStopModuleVersionStopsInstance(t *testing.T) {
	f := instanceFixture(t, "")
	pid := pidOf(t, f.do(t, http.MethodGet, "http://localhost/").body)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go f.srv.Watch(ctx)
	if err := f.store.SetServingStatus(t.Context(), "shop", "default", "v2", backend.Stopped); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		t.Fatalf("instance %d still runs 10s after its version was stopped", pid)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/"); r.status != http.StatusServiceUnavailable {
		t.Errorf("stopped version: %d, want 503", r.status)
	}
}

func TestDispatchPicksService(t *testing.T) {
	f := instanceFixture(t, "")
	deploy(t, f.store, "api", "a1", appYAML(t, ""), appFiles)
	if err := f.store.SetTraffic(t.Context(), "shop", "api", map[string]float64{"a1": 1}, false); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutConfig(t.Context(), "shop", backend.ConfigDispatch, []byte("dispatch:\n- url: \"*/api/*\"\n  service: api\n")); err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/api/items"); !strings.HasPrefix(r.body, "hello from api/a1 ") {
		t.Errorf("/api/items: %d %q, want service api's answer", r.status, r.body)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/other"); !strings.HasPrefix(r.body, "hello from default/v2 ") {
		t.Errorf("/other: %d %q, want service default's answer", r.status, r.body)
	}
	if r := f.do(t, http.MethodGet, "http://a1-dot-api-dot-shop.localhost/"); !strings.HasPrefix(r.body, "hello from api/a1 ") {
		t.Errorf("VERSION-dot-SERVICE host: %d %q", r.status, r.body)
	}
}

func TestInstanceLogLinesJoinTheirRequest(t *testing.T) {
	f := instanceFixture(t, "inbound_services:\n- warmup\n")
	if r := f.do(t, http.MethodGet, "http://localhost/log"); r.body != "logged" {
		t.Fatalf("/log: %d %q", r.status, r.body)
	}
	var logs []backend.RequestLog
	err := f.store.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: time.Now().Add(time.Hour * 24 * 365 * 10)}, func(l backend.RequestLog) error {
		logs = append(logs, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]backend.RequestLog{}
	for _, l := range logs {
		byPath[l.Resource] = l
	}
	w, ok := byPath["/_ah/warmup"]
	if !ok || w.Status != 200 || len(w.AppLogs) != 1 || w.AppLogs[0].Message != "warming up" {
		t.Errorf("warmup request log: %+v (present %v)", w, ok)
	}
	l := byPath["/log"]
	// stdout and stderr are two pipes: their lines' order is not kept.
	got := map[string]backend.Severity{}
	for _, a := range l.AppLogs {
		got[a.Message] = a.Level
	}
	want := map[string]backend.Severity{"structured trouble": backend.Error, "a plain line": backend.Info}
	if len(l.AppLogs) != len(want) {
		t.Fatalf("/log's app logs: %+v, want %v", l.AppLogs, want)
	}
	for m, level := range want {
		if lv, ok := got[m]; !ok || lv != level {
			t.Errorf("app log %q: level %v (present %v), want %v", m, lv, ok, level)
		}
	}
}

func TestInstanceStartFailureSaysWhy(t *testing.T) {
	f := newFixture(t)
	deploy(t, f.store, "default", "v3", "runtime: python312\nhandlers:\n- url: /.*\n  script: auto\n", map[string]string{"main.py": "app = None"})
	if err := f.store.SetTraffic(t.Context(), "shop", "default", map[string]float64{"v3": 1}, false); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no gunicorn
	f.errorsExpected = true
	f.srv = f.server(t, serve.Config{Files: f.store, Instances: &instance.Config{CacheDir: t.TempDir()}})
	r := f.do(t, http.MethodGet, "http://localhost/")
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "gunicorn is not installed") {
		t.Errorf("no gunicorn: %d %q", r.status, r.body)
	}
}
