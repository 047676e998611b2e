package logs_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/appconfig/appconfigtest"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/logs"
	"github.com/appcfg/appcfg/serve"
)

// The tests record real requests: a local store (the test may use it; the
// logs package itself only sees backend.LogReader), a deployed version and
// the serve handler in front of it.

const appYAML = `runtime: python27
api_version: 1
threadsafe: true
handlers:
- url: /static
  static_dir: static
- url: /admin/.*
  script: main.app
  login: admin
- url: /.*
  script: main.app
`

// clock is a fake time source advancing by step on every call.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

type host struct {
	store *local.Backend
	srv   *serve.Server
	clock *clock
}

func newHost(t *testing.T, start time.Time) *host {
	t.Helper()
	store, err := local.Open(t.Context(), "", local.Config{Root: t.TempDir()}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	css := []byte("body { color: #333; }\n")
	sum := sha1.Sum(css)
	digest := hex.EncodeToString(sum[:])
	if err := store.PutBlob(t.Context(), "guestbook", digest, int64(len(css)), bytes.NewReader(css)); err != nil {
		t.Fatal(err)
	}
	spec := backend.VersionSpec{App: "guestbook", Service: "default", Version: "v1", Runtime: "python27",
		Model: appconfigtest.Model(t, "app.yaml", appYAML), Files: []backend.FileRef{{Path: "static/style.css", SHA1: digest, Size: int64(len(css))}}}
	if err := store.SyncBlobs(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateVersion(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if err := store.SetTraffic(t.Context(), "guestbook", "default", map[string]float64{"v1": 1}, false); err != nil {
		t.Fatal(err)
	}
	h := &host{store: store, clock: &clock{t: start, step: 0}}
	h.newServer(t)
	return h
}

func (h *host) newServer(t *testing.T) {
	t.Helper()
	srv, err := serve.New(serve.Config{App: "guestbook", Versions: h.store, Contents: h.store, Logs: logs.KeepLines(h.store),
		Now: h.clock.now, OnError: func(err error) { t.Error(err) }})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
}

// drain writes the recorded logs and starts a new server for more.
func (h *host) drain(t *testing.T) {
	t.Helper()
	if err := h.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.newServer(t)
}

var agents = []string{
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	`curl/8.5.0 "quoted" \ backslash`,
	"",
	"Googlebot/2.1 (+http://www.google.com/bot.html)",
}

var paths = []string{"/static/style.css", "/static/missing.css", "/admin/stats", "/guestbook?page=2&q=a%20b", "/static/style.css"}

// request serves the i-th synthetic request, the clock advancing step
// before it.
func (h *host) request(i int, step time.Duration) {
	h.clock.mu.Lock()
	h.clock.t = h.clock.t.Add(step)
	h.clock.mu.Unlock()
	method := http.MethodGet
	if i%17 == 0 {
		method = http.MethodHead
	}
	r := httptest.NewRequest(method, "http://localhost:8080"+paths[i%len(paths)], nil)
	r.RemoteAddr = []string{"192.0.2.1:5000", "[2001:db8::7]:443", "198.51.100.23:61000"}[i%3]
	r.Header.Set("User-Agent", agents[i%len(agents)])
	if i%4 == 1 {
		r.Header.Set("Referer", "http://example.com/page?id="+fmt.Sprint(i))
	}
	h.srv.ServeHTTP(httptest.NewRecorder(), r)
}

var start = time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)

func download(t *testing.T, h *host, out string, appendTo bool) logs.Result {
	t.Helper()
	res, err := logs.Download(t.Context(), h.store, logs.Options{
		App: "guestbook", Service: "default", Version: "v1", Output: out, Append: appendTo,
		EndDate: "2026-11-30", NumDays: 0, Format: logs.Format{Severity: backend.Info},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestGoAccessParsesEveryLine records 10,000 requests and has goaccess, an
// independent Apache log parser, read the download as COMBINED.
func TestGoAccessParsesEveryLine(t *testing.T) {
	goaccess, err := exec.LookPath("goaccess")
	if err != nil {
		t.Skip("goaccess is not installed (apt-get install goaccess); skipping the independent parse of the output")
	}
	h := newHost(t, start)
	const n = 10_000
	for i := range n {
		h.request(i, 7*time.Millisecond)
	}
	h.drain(t)
	dir := t.TempDir()
	// Only request lines: goaccess reads every line as a request.
	out := filepath.Join(dir, "access.log")
	res, err := logs.Download(t.Context(), h.store, logs.Options{
		App: "guestbook", Service: "default", Version: "v1", Output: out,
		EndDate: "2026-11-30", NumDays: 0, Format: logs.Format{Severity: -1, IncludeVHost: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != n || res.Lines != n {
		t.Fatalf("downloaded %d requests in %d lines, want %d", res.Requests, res.Lines, n)
	}
	report := filepath.Join(dir, "report.json")
	cmd := exec.CommandContext(t.Context(), goaccess, out, "--log-format=COMBINED", "--no-global-config", "-o", report)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goaccess: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		General struct {
			Total  int `json:"total_requests"`
			Valid  int `json:"valid_requests"`
			Failed int `json:"failed_requests"`
		} `json:"general"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("goaccess report: %v", err)
	}
	g := rep.General
	if g.Failed != 0 || g.Valid != n || g.Total != n {
		t.Fatalf("goaccess read %d lines: %d valid, %d invalid; want %d valid, 0 invalid", g.Total, g.Valid, g.Failed, n)
	}
	t.Logf("goaccess: %d lines, %d valid, %d invalid", g.Total, g.Valid, g.Failed)
}

// TestAppendEqualsFullDownload grows the log between --append runs, with
// new requests in the very second the file ends with, and compares the
// file with one full download.
func TestAppendEqualsFullDownload(t *testing.T) {
	h := newHost(t, start)
	dir := t.TempDir()
	grown := filepath.Join(dir, "grown.log")
	i := 0
	for round, count := range []int{700, 450, 1, 900} {
		for range count {
			// 90 ms steps: many requests share a second, so each round
			// ends mid-second and the next continues in it.
			h.request(i, 90*time.Millisecond)
			i++
		}
		h.drain(t)
		res := download(t, h, grown, true)
		if res.Requests != count {
			t.Fatalf("append round %d added %d requests, want %d", round, res.Requests, count)
		}
	}
	// An --append with nothing new adds nothing.
	if res := download(t, h, grown, true); res.Requests != 0 || res.Lines != 0 {
		t.Fatalf("an append with no new logs wrote %d requests", res.Requests)
	}
	full := filepath.Join(dir, "full.log")
	res := download(t, h, full, false)
	if res.Requests != i {
		t.Fatalf("full download: %d requests, want %d", res.Requests, i)
	}
	a, b := readFile(t, grown), readFile(t, full)
	if a != b {
		t.Fatalf("the appended file (%d bytes) differs from a full download (%d bytes) at byte %d", len(a), len(b), firstDiff(a, b))
	}
	if !strings.Contains(a, "\n\t2:") {
		t.Fatalf("the download has no app log lines; the test should cover them")
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestDownloadReplacesAtomically checks that a failed download leaves the
// old file and no temporary file.
func TestDownloadReplacesAtomically(t *testing.T) {
	h := newHost(t, start)
	h.request(0, time.Second)
	h.drain(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	if err := os.WriteFile(out, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := logs.Download(t.Context(), failingReader{}, logs.Options{App: "guestbook", Output: out, EndDate: "2026-11-30"})
	if err == nil || !strings.Contains(err.Error(), "store is down") {
		t.Fatalf("Download with a failing reader: %v", err)
	}
	if got := readFile(t, out); got != "old\n" {
		t.Fatalf("a failed download changed the file to %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("a failed download left %d files, want 1", len(entries))
	}
	download(t, h, out, false)
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("the replaced file: %v, mode %v, want 0640 kept", err, st.Mode())
	}
}

type failingReader struct{}

func (failingReader) ReadLogs(ctx context.Context, q backend.LogQuery, fn func(backend.RequestLog) error) error {
	if err := fn(backend.RequestLog{Time: start, Method: "GET", Resource: "/", Status: 200}); err != nil {
		return err
	}
	return fmt.Errorf("store is down")
}
