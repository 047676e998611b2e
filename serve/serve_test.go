package serve_test

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/appconfig/appconfigtest"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/serve"
)

// The tests serve versions deployed to a real local store (test code may
// use it; package serve sees only the backend interfaces).

const siteYAML = `runtime: python27
api_version: 1
threadsafe: true
default_expiration: "1h"
handlers:
- url: /favicon\.ico
  static_files: static/favicon.ico
  upload: static/favicon\.ico
  expiration: "7d 1h"
- url: /img/(.*)\.png
  static_files: static/images/\1.png
  upload: static/images/.*\.png
  require_matching_file: true
  mime_type: image/x-test
- url: /static
  static_dir: static
  http_headers:
    X-Content-Type-Options: nosniff
    Cache-Control: no-transform
- url: /admin/.*
  script: main.app
  login: admin
- url: /account
  static_dir: static
  login: required
- url: /api/.*
  script: main.app
  login: required
  auth_fail_action: unauthorized
- url: /secure/.*
  script: main.app
  secure: always
- url: /.*
  script: main.app
error_handlers:
- file: errors/default.html
`

type fixture struct {
	store *local.Backend
	srv   *serve.Server
	now   time.Time
	// errorsExpected: the server's errors are part of the test, not a
	// failure.
	errorsExpected bool
}

func deploy(t testing.TB, store *local.Backend, service, version, config string, files map[string]string) {
	t.Helper()
	spec := backend.VersionSpec{App: "shop", Service: service, Version: version, Runtime: "python27", Model: appconfigtest.Model(t, "app.yaml", config)}
	for p, content := range files {
		sum := sha1.Sum([]byte(content))
		d := hex.EncodeToString(sum[:])
		if err := store.PutBlob(t.Context(), "shop", d, int64(len(content)), strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		spec.Files = append(spec.Files, backend.FileRef{Path: p, SHA1: d, Size: int64(len(content))})
	}
	if err := store.SyncBlobs(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateVersion(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
}

var siteFiles = map[string]string{
	"static/favicon.ico":     "ICO",
	"static/css/site.css":    "body{}",
	"static/images/logo.png": "PNG",
	"static/app.woff2":       "FONT",
	"errors/default.html":    "<h1>Custom error</h1>",
	"main.py":                "app = None",
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	store, err := local.Open(t.Context(), "", local.Config{Root: t.TempDir()}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	deploy(t, store, "default", "v1", siteYAML, siteFiles)
	if err := store.SetTraffic(t.Context(), "shop", "default", map[string]float64{"v1": 1}, false); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	f.srv = f.server(t, serve.Config{})
	return f
}

// server returns a server of the fixture's store with cfg's other
// settings, closed when the test ends.
func (f *fixture) server(t testing.TB, cfg serve.Config) *serve.Server {
	t.Helper()
	cfg.App, cfg.Versions, cfg.Contents, cfg.Logs = "shop", f.store, f.store, f.store
	cfg.Now = func() time.Time { return f.now }
	cfg.OnError = func(err error) {
		if !f.errorsExpected {
			t.Error(err)
		}
	}
	srv, err := serve.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the store's cleanup, so it runs first.
	t.Cleanup(func() {
		if err := srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return srv
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(t *testing.T, method, target string, cookies ...*http.Cookie) reply {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	return reply{w.Code, w.Result().Header, string(body)}
}

func TestStatic(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, target string
		status       int
		body, ctype  string
		cache        string
	}{
		{"static_files", "/favicon.ico", 200, "ICO", "image/x-icon", "public, max-age=608400"},
		{"static_files with groups and mime_type", "/img/logo.png", 200, "PNG", "image/x-test", "public, max-age=3600"},
		{"static_dir", "/static/css/site.css", 200, "body{}", "text/css", "no-transform"},
		{"legacy mime addition", "/static/app.woff2", 200, "FONT", "application/font-woff2", "no-transform"},
		{"missing file, custom error page", "/static/css/none.css", 404, "<h1>Custom error</h1>", "text/html", ""},
		{"climbing out of static_dir", "/static/../main.py", 404, "<h1>Custom error</h1>", "text/html", ""},
		{"require_matching_file falls through to the script", "/img/none.png", 502, "", "text/plain; charset=utf-8", ""},
		{"script", "/guestbook", 502, "", "text/plain; charset=utf-8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, http.MethodGet, "http://localhost"+tt.target)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %q", r.status, tt.status, r.body)
			}
			if tt.body != "" && r.body != tt.body {
				t.Errorf("body %q, want %q", r.body, tt.body)
			}
			if got := r.header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := r.header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if tt.status == 502 && !strings.Contains(r.body, "does not run application code") {
				t.Errorf("a script handler's 502 does not say why: %q", r.body)
			}
		})
	}
	r := f.do(t, http.MethodGet, "http://localhost/static/css/site.css")
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("ETag") == "" {
		t.Errorf("http_headers or ETag missing: %v", r.header)
	}
	if exp, err := http.ParseTime(r.header.Get("Expires")); err != nil || !exp.Equal(f.now.Add(time.Hour)) {
		t.Errorf("Expires %q, want %s", r.header.Get("Expires"), f.now.Add(time.Hour))
	}
	r = f.do(t, http.MethodPost, "http://localhost/static/css/site.css")
	if r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST to a static file: %d, want 405", r.status)
	}
}

func TestLoginAndSecure(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, http.MethodGet, "http://localhost/admin/stats?x=1")
	wantLogin := "/_ah/login?continue=" + url.QueryEscape("http://localhost/admin/stats?x=1")
	if r.status != http.StatusFound || r.header.Get("Location") != wantLogin {
		t.Fatalf("login: admin without a user: %d %q, want 302 %q", r.status, r.header.Get("Location"), wantLogin)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/api/x"); r.status != http.StatusUnauthorized {
		t.Errorf("auth_fail_action: unauthorized: %d, want 401", r.status)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/_ah/login?continue=/x"); r.status != 200 || !strings.Contains(r.body, `name="admin"`) {
		t.Fatalf("sign-in page: %d %q", r.status, r.body)
	}

	user := signIn(t, f, false)
	admin := signIn(t, f, true)
	if r := f.do(t, http.MethodGet, "http://localhost/account/css/site.css", user); r.status != 200 || r.body != "body{}" {
		t.Errorf("login: required with a user: %d %q", r.status, r.body)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/admin/stats", user); r.status != http.StatusUnauthorized {
		t.Errorf("login: admin with a plain user: %d, want 401", r.status)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/admin/stats", admin); r.status != http.StatusBadGateway {
		t.Errorf("login: admin with an administrator reaches the script: %d, want 502", r.status)
	}

	// As the SDK's dev server: plain http does not enforce secure: always
	// (the guestbook's / redirected to an https nobody served).
	r = f.do(t, http.MethodGet, "http://localhost:8080/secure/pay?amount=3")
	if r.status != http.StatusBadGateway {
		t.Errorf("secure: always over plain http: %d %q, want the script's 502", r.status, r.header.Get("Location"))
	}
}

// signIn posts the sign-in form and returns the cookie it sets.
func signIn(t *testing.T, f *fixture, admin bool) *http.Cookie {
	t.Helper()
	form := url.Values{"email": {"ann@example.com"}, "action": {"Login"}, "continue": {"https://evil.example/"}}
	if admin {
		form.Set("admin", "True")
	}
	r := httptest.NewRequest(http.MethodPost, "http://localhost/_ah/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/" {
		t.Fatalf("sign in: %d to %q, want 302 to / (never to another host)", w.Code, w.Header().Get("Location"))
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("sign in set %d cookies", len(cs))
	}
	return cs[0]
}

func TestRouting(t *testing.T) {
	f := routingFixture(t)
	tests := []struct{ host, body string }{
		{"v2-dot-default.localhost:8080", "from v2"},
		{"api.localhost:8080", "from api"},
		{"a1-dot-api.localhost", "from api"},
		{"v2.localhost", "from v2"},
	}
	for _, tt := range tests {
		if r := f.do(t, http.MethodGet, "http://"+tt.host+"/hello"); r.body != tt.body {
			t.Errorf("host %s: %d %q, want %q", tt.host, r.status, r.body, tt.body)
		}
	}
	if r := f.do(t, http.MethodGet, "http://v9-dot-default.localhost/hello"); r.status != http.StatusNotFound {
		t.Errorf("an unknown version: %d, want 404", r.status)
	}
	// The traffic split goes by client address: with 50/50, some clients
	// see each version, and one client always the same.
	if err := f.store.SetTraffic(t.Context(), "shop", "default", map[string]float64{"v1": 0.5, "v2": 0.5}, false); err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for i := range 64 {
		r := httptest.NewRequest(http.MethodGet, "http://localhost/favicon.ico", nil)
		r.RemoteAddr = "10.0.0." + string(rune('0'+i%10)) + string(rune('0'+i/10)) + ":1000"
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		seen[w.Code]++
	}
	if seen[200] == 0 || seen[404] == 0 {
		t.Errorf("a 50/50 split sent statuses %v; want both versions used", seen)
	}
	if err := f.store.SetServingStatus(t.Context(), "shop", "default", "v2", backend.Stopped); err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, http.MethodGet, "http://v2-dot-default.localhost/hello"); r.status != http.StatusServiceUnavailable {
		t.Errorf("a stopped version: %d, want 503", r.status)
	}
}

// TestRecordsEveryRequest closes the server and finds each request in the
// store with what the log needs.
func TestRecordsEveryRequest(t *testing.T) {
	f := newFixture(t)
	const n = 1234 // more than two batches, and not a multiple of one
	for i := range n {
		r := httptest.NewRequest(http.MethodGet, "http://localhost:8080/static/css/site.css?i="+string(rune('a'+i%26)), nil)
		r.Header.Set("Referer", "http://ref.example/")
		r.Header.Set("User-Agent", "tester/1.0")
		f.srv.ServeHTTP(httptest.NewRecorder(), r)
		f.now = f.now.Add(time.Millisecond)
	}
	f.do(t, http.MethodGet, "http://localhost:8080/nothing-here.css?x=1")
	if err := f.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got []backend.RequestLog
	err := f.store.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: f.now.Add(time.Hour)}, func(l backend.RequestLog) error {
		got = append(got, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 || f.srv.Recorded() != n+1 {
		t.Fatalf("%d logs stored, %d reported, want %d", len(got), f.srv.Recorded(), n+1)
	}
	l := got[0]
	if l.Method != "GET" || l.Resource != "/static/css/site.css?i=a" || l.Status != 200 || l.Bytes != 6 ||
		l.Referrer != "http://ref.example/" || l.UserAgent != "tester/1.0" || l.Host != "localhost:8080" ||
		l.IP != "192.0.2.1" || l.HTTPVersion != "HTTP/1.1" || l.Service != "default" || l.Version != "v1" {
		t.Errorf("first log %+v", l)
	}
	last := got[n]
	if last.Status != 502 || len(last.AppLogs) == 0 || last.AppLogs[0].Level != backend.Error {
		t.Errorf("the script request's log %+v, want 502 with an error line", last)
	}
}

func TestMimeType(t *testing.T) {
	if serve.MimeType("A.PNG") != "image/png" || serve.MimeType("x.unknown") != "application/octet-stream" {
		t.Errorf("MimeType: %q %q", serve.MimeType("A.PNG"), serve.MimeType("x.unknown"))
	}
}

// A handler whose url RE2 cannot run (a look-ahead) routes as App Engine
// routes it: the backtracking engine runs it.
func TestLookaheadURLRoutes(t *testing.T) {
	f := newFixture(t)
	deploy(t, f.store, "default", "v3", "runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /(?!admin).*\n  static_files: index.html\n  upload: index.html\n", map[string]string{"index.html": "home"})
	if r := f.do(t, http.MethodGet, "http://v3-dot-default.localhost/page"); r.status != http.StatusOK || r.body != "home" {
		t.Errorf("/page: status %d, body %q; want 200 home", r.status, r.body)
	}
	if r := f.do(t, http.MethodGet, "http://v3-dot-default.localhost/admin"); r.status != http.StatusNotFound {
		t.Errorf("/admin: status %d, body %q; want 404 (the look-ahead excludes it)", r.status, r.body)
	}
}

// An expiration past what int64 nanoseconds hold was sent as a negative
// max-age and an Expires in 1842: it is capped at one year.
func TestExpirationCappedAtOneYear(t *testing.T) {
	f := newFixture(t)
	deploy(t, f.store, "default", "v4", "runtime: python27\napi_version: 1\nthreadsafe: true\ndefault_expiration: \"1000000d\"\nhandlers:\n- url: /a\n  static_files: a.txt\n  upload: a.txt\n- url: /b\n  static_files: b.txt\n  upload: b.txt\n  expiration: \"400d 5h\"\n",
		map[string]string{"a.txt": "A", "b.txt": "B"})
	for _, p := range []string{"/a", "/b"} {
		r := f.do(t, http.MethodGet, "http://v4-dot-default.localhost"+p)
		if r.status != 200 || r.header.Get("Cache-Control") != "public, max-age=31536000" {
			t.Errorf("%s: %d, Cache-Control %q; want max-age=31536000 (one year)", p, r.status, r.header.Get("Cache-Control"))
		}
		if exp, err := http.ParseTime(r.header.Get("Expires")); err != nil || !exp.Equal(f.now.Add(365*24*time.Hour)) {
			t.Errorf("%s: Expires %q, want %s", p, r.header.Get("Expires"), f.now.Add(365*24*time.Hour))
		}
	}
}

// The sign-in page goes back only to a path of this site: a browser reads
// "/\evil.example" and "/\/evil.example" as //evil.example, another host.
func TestLoginContinueStaysOnSite(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ cont, want string }{
		{`/\evil.example`, "/"},
		{`/\/evil.example`, "/"},
		{`//evil.example/x`, "/"},
		{"/\t/evil.example", "/"},
		{`https://evil.example/`, "/"},
		{`http:\\evil.example`, "/"},
		{`\\evil.example`, "/"},
		{`javascript:alert(1)`, "/"},
		{`/account/x?y=1`, "/account/x?y=1"},
		{`http://localhost/admin/stats?x=1`, "http://localhost/admin/stats?x=1"},
	}
	for _, tt := range tests {
		form := url.Values{"email": {"ann@example.com"}, "action": {"Login"}, "continue": {tt.cont}}
		r := httptest.NewRequest(http.MethodPost, "http://localhost/_ah/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		if w.Code != http.StatusFound || w.Header().Get("Location") != tt.want {
			t.Errorf("continue=%q: %d to %q, want 302 to %q", tt.cont, w.Code, w.Header().Get("Location"), tt.want)
		}
		// The sign-in form carries the continue URL on as well.
		g := f.do(t, http.MethodGet, "http://localhost/_ah/login?continue="+url.QueryEscape(tt.cont))
		if want := `name="continue" value="` + html.EscapeString(tt.want) + `"`; !strings.Contains(g.body, want) {
			t.Errorf("continue=%q: the form does not carry %s: %q", tt.cont, want, g.body)
		}
	}
}

// secure: always redirects to the address serve was started with, never
// to the host a client names, and believes X-Forwarded-Proto only behind
// a proxy it was told to trust.
func TestSecureRedirectIgnoresClientHeaders(t *testing.T) {
	f := newFixture(t)
	srv := f.server(t, serve.Config{Addr: "127.0.0.1:8080", EnforceSecure: true})
	get := func(h *serve.Server, host string, hdr map[string]string) reply {
		r := httptest.NewRequest(http.MethodGet, "http://localhost/secure/pay?amount=3", nil)
		r.Host = host
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return reply{w.Code, w.Result().Header, w.Body.String()}
	}
	r := get(srv, "evil.example", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != "https://127.0.0.1:8080/secure/pay?amount=3" {
		t.Errorf("Host: evil.example: %d to %q, want https://127.0.0.1:8080/secure/pay?amount=3", r.status, r.header.Get("Location"))
	}
	r = get(srv, "127.0.0.1:8080", map[string]string{"X-Forwarded-Proto": "https"})
	if r.status != http.StatusFound {
		t.Errorf("an untrusted X-Forwarded-Proto: https skipped the redirect: %d", r.status)
	}
	proxied := f.server(t, serve.Config{Addr: "127.0.0.1:8080", TrustProxy: true, EnforceSecure: true})
	r = get(proxied, "127.0.0.1:8080", map[string]string{"X-Forwarded-Proto": "https"})
	if r.status != http.StatusBadGateway {
		t.Errorf("--trust_proxy and X-Forwarded-Proto: https: %d, want the script's 502", r.status)
	}
	r = get(proxied, "127.0.0.1:8080", map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Host": "shop.example"})
	if r.status != http.StatusFound || r.header.Get("Location") != "https://shop.example/secure/pay?amount=3" {
		t.Errorf("--trust_proxy and X-Forwarded-Host: %d to %q, want https://shop.example/secure/pay?amount=3", r.status, r.header.Get("Location"))
	}
}

// A body larger than App Engine's 32 MB request limit is refused, whether
// it announces its length or not.
func TestRequestBodyLimit(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest(http.MethodPost, "http://localhost/_ah/login", io.LimitReader(zeros{}, serve.MaxRequestBody+1))
	r.ContentLength = serve.MaxRequestBody + 1
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "32 MiB") {
		t.Errorf("a %d-byte body: %d %q, want 413 naming the limit", serve.MaxRequestBody+1, w.Code, w.Body.String())
	}
	// Chunked: the length is unknown until the body is read.
	r = httptest.NewRequest(http.MethodPost, "http://localhost/_ah/login", io.LimitReader(zeros{}, serve.MaxRequestBody+1))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code == http.StatusFound || w.Code == http.StatusOK {
		t.Errorf("a chunked body over the limit was accepted: %d", w.Code)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// A client dribbling its body, or a keep-alive left idle, is cut off: the
// server sets read, write and idle timeouts, not only the header one.
func TestConnectionTimeouts(t *testing.T) {
	f := newFixture(t)
	srv := f.server(t, serve.Config{Timeouts: serve.Timeouts{ReadHeader: time.Second, Read: 300 * time.Millisecond, Write: time.Second, Idle: 300 * time.Millisecond}})
	hs := srv.HTTPServer()
	def := f.srv.HTTPServer()
	if def.ReadTimeout <= 0 || def.WriteTimeout <= 0 || def.IdleTimeout <= 0 || def.ReadHeaderTimeout <= 0 {
		t.Errorf("default timeouts: read %v, write %v, idle %v, header %v; want all set", def.ReadTimeout, def.WriteTimeout, def.IdleTimeout, def.ReadHeaderTimeout)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	// A body announced as 100 bytes, of which 1 is sent.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /_ah/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na")
	if d := closedWithin(t, c, 5*time.Second); d > 3*time.Second {
		t.Errorf("a dribbled body held the connection %v", d)
	}

	// An idle keep-alive after one complete request.
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	fmt.Fprintf(c2, "GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if d := closedWithin(t, c2, 5*time.Second); d > 3*time.Second {
		t.Errorf("an idle keep-alive stayed open %v", d)
	}
}

// closedWithin reads c until the server closes it, at most max, and
// returns how long that took.
func closedWithin(t *testing.T, c net.Conn, max time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(max))
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return max
			}
			return time.Since(start)
		}
	}
}

// A request's log is in the store by the time its response completes: a
// server killed (SIGKILL) right after answering loses no answered request.
// It used to wait up to 250 ms in memory first.
func TestLogStoredBeforeResponseCompletes(t *testing.T) {
	f := newFixture(t)
	for i := range 20 {
		f.do(t, http.MethodGet, fmt.Sprintf("http://localhost/static/css/site.css?i=%d", i))
		n := 0
		err := f.store.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: f.now.Add(time.Hour)}, func(backend.RequestLog) error {
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Fatalf("after %d answered requests the store holds %d logs", i+1, n)
		}
	}
}

// flakyLogs refuses the first writes, as a full or locked store would.
type flakyLogs struct {
	mu       sync.Mutex
	failures int
	got      int
}

func (l *flakyLogs) WriteLogs(_ context.Context, _ string, logs []backend.RequestLog) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures > 0 {
		l.failures--
		return errors.New("disk full")
	}
	l.got += len(logs)
	return nil
}

// While the store refuses logs, responses do not wait for them, and the
// logs kept are written once it accepts again.
func TestFailingLogStoreDoesNotHoldResponses(t *testing.T) {
	f := newFixture(t)
	logs := &flakyLogs{failures: 3}
	var errs atomic.Int32
	srv, err := serve.New(serve.Config{App: "shop", Versions: f.store, Contents: f.store, Logs: logs,
		FlushEvery: 50 * time.Millisecond, OnError: func(error) { errs.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 10 {
		f.srv = srv
		f.do(t, http.MethodGet, "http://localhost/favicon.ico")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("10 requests took %v while the store failed", d)
	}
	if err := srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if logs.got != 10 || errs.Load() == 0 {
		t.Errorf("%d logs written, %d errors reported; want 10 and some", logs.got, errs.Load())
	}
}

// A blob damaged in the store (one byte flipped, same size) is never sent:
// the first request for it reads it through its SHA-1 and answers 500,
// logging an error that names the blob; a sound blob is checked once and
// then trusted.
func TestDamagedBlobNotServed(t *testing.T) {
	f := newFixture(t)
	f.errorsExpected = true
	var errs []error
	f.srv, _ = serve.New(serve.Config{App: "shop", Versions: f.store, Contents: f.store,
		Now: func() time.Time { return f.now }, OnError: func(err error) { errs = append(errs, err) }})
	sum := sha1.Sum([]byte("body{}"))
	digest := hex.EncodeToString(sum[:])
	blob := filepath.Join(f.store.Root(), "blobs", digest[:2], digest[2:])
	if err := os.WriteFile(blob, []byte("body[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r := f.do(t, http.MethodGet, "http://localhost/static/css/site.css")
		if r.status != http.StatusInternalServerError || strings.Contains(r.body, "body[]") {
			t.Fatalf("a damaged blob answered %d %q, want 500 without its bytes", r.status, r.body)
		}
		if !strings.Contains(r.body, "appcfg verify --repair") {
			t.Errorf("the 500 does not say what to do: %q", r.body)
		}
	}
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), digest) || !strings.Contains(errs[0].Error(), "static/css/site.css") {
		t.Fatalf("errors %v, want one naming the blob %s and its file", errs, digest)
	}
	// Repaired behind the server's back: served, checked this time.
	if err := os.WriteFile(blob, []byte("body{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/static/css/site.css"); r.status != 200 || r.body != "body{}" {
		t.Fatalf("the repaired blob answered %d %q", r.status, r.body)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/static/css/site.css", nil...); r.status != 200 {
		t.Fatalf("a checked blob answered %d", r.status)
	}
}

// A file whose blob record is damaged (its size made text by hand) is not
// sent: the request gets a 500 saying the record is damaged and what to
// run, not only that the store could not read it, and the error printed
// and the request's log line name the record and the file.
func TestDamagedRecordNotServed(t *testing.T) {
	f := newFixture(t)
	f.errorsExpected = true
	var errs []error
	f.srv, _ = serve.New(serve.Config{App: "shop", Versions: f.store, Contents: f.store, Logs: f.store,
		Now: func() time.Time { return f.now }, OnError: func(err error) { errs = append(errs, err) }})
	sum := sha1.Sum([]byte("body{}"))
	digest := hex.EncodeToString(sum[:])
	db, err := sql.Open("sqlite", filepath.Join(f.store.Root(), "appcfg.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE blobs SET size = 'abc' WHERE sha1 = ?`, digest); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := f.do(t, http.MethodGet, "http://localhost/static/css/site.css")
	if r.status != http.StatusInternalServerError || !strings.Contains(r.body, "damaged") || !strings.Contains(r.body, "appcfg verify --repair") {
		t.Errorf("a file with a damaged record answered %d %q, want 500 saying the record is damaged and what to run", r.status, r.body)
	}
	if len(errs) != 1 || !errors.Is(errs[0], backend.ErrDamagedRecord) || !strings.Contains(errs[0].Error(), digest) || !strings.Contains(errs[0].Error(), "static/css/site.css") {
		t.Errorf("errors %v, want one damaged-record error naming the record %s and its file", errs, digest)
	}
	if err := f.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	var lines []string
	err = f.store.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: f.now.Add(time.Hour)}, func(l backend.RequestLog) error {
		for _, a := range l.AppLogs {
			lines = append(lines, a.Message)
		}
		return nil
	})
	if err != nil || len(lines) != 1 || !strings.Contains(lines[0], digest) || !strings.Contains(lines[0], "static/css/site.css") {
		t.Errorf("log lines %q (%v), want one naming the record %s and its file", lines, err, digest)
	}
}

// The client address logged (and splitting traffic) is the connection's,
// unless a trusted proxy names the client in X-Forwarded-For.
func TestClientAddressBehindProxy(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		trust bool
		want  string
	}{{false, "192.0.2.1"}, {true, "203.0.113.7"}} {
		srv := f.server(t, serve.Config{TrustProxy: tt.trust})
		r := httptest.NewRequest(http.MethodGet, "http://localhost/favicon.ico?trust="+fmt.Sprint(tt.trust), nil)
		r.Header.Set("X-Forwarded-For", "203.0.113.7, 10.0.0.1")
		srv.ServeHTTP(httptest.NewRecorder(), r)
		if err := srv.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		var ip string
		err := f.store.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: f.now.Add(time.Hour)}, func(l backend.RequestLog) error {
			if strings.HasSuffix(l.Resource, "trust="+fmt.Sprint(tt.trust)) {
				ip = l.IP
			}
			return nil
		})
		if err != nil || ip != tt.want {
			t.Errorf("TrustProxy %v: logged IP %q (%v), want %s", tt.trust, ip, err, tt.want)
		}
	}
}
