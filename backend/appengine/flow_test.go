package appengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/appcfg/appcfg/appconfig/appconfigtest"
	"github.com/appcfg/appcfg/backend"
)

func putBytes(t *testing.T, b *Backend, data []byte) string {
	t.Helper()
	d := sha1hex(data)
	if err := b.PutBlob(t.Context(), "p", d, int64(len(data)), bytes.NewReader(data)); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	return d
}

func (f *fakeCloud) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// TestDeployFlow runs the deploy as gcloud does it (google-apis.md §1.2):
// app and bucket, listing, uploads, versions.create, polling, promote.
func TestDeployFlow(t *testing.T) {
	b, f := newTestBackend(t)
	ctx := t.Context()
	files := map[string][]byte{"main.py": []byte("print(1)\n"), "app.yaml": []byte("runtime: python312\n")}
	var spec = backend.VersionSpec{App: "p", Service: "default", Version: "v1", Runtime: "python312", Model: appconfigtest.Model(t, "app.yaml", string(files["app.yaml"]))}
	var ds []string
	for p, c := range files {
		ds = append(ds, sha1hex(c))
		spec.Files = append(spec.Files, backend.FileRef{Path: p, SHA1: sha1hex(c), Size: int64(len(c))})
	}
	missing, err := b.MissingBlobs(ctx, "p", ds)
	if err != nil || len(missing) != 2 {
		t.Fatalf("MissingBlobs on an empty bucket = %v, %v", missing, err)
	}
	for _, c := range files {
		putBytes(t, b, c)
	}
	v1, err := b.CreateVersion(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Traffic != 1 {
		t.Errorf("the first version of a service has traffic %v, want 1", v1.Traffic)
	}
	spec.Version = "v2"
	if _, err := b.CreateVersion(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := b.SetTraffic(ctx, "p", "default", map[string]float64{"v2": 1}, false); err != nil {
		t.Fatal(err)
	}
	calls := strings.Join(f.callLog(), "\n")
	for _, want := range []string{
		"GET /v1/apps/p",
		"GET /storage/v1/b/staging.p.appspot.com",
		"POST /upload/storage/v1/b/staging.p.appspot.com/o",
		"POST /v1/apps/p/services/default/versions",
		"GET /v1/apps/p/operations/",
		"PATCH /v1/apps/p/services/default",
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("the deploy made no %q call; calls:\n%s", want, calls)
		}
	}
	got, err := b.Version(ctx, "p", "default", "v2")
	if err != nil || got.Traffic != 1 || got.Files != 2 {
		t.Fatalf("after promoting v2: %+v, %v", got, err)
	}
	// A redeploy of the same files uploads nothing.
	if m, err := b.MissingBlobs(ctx, "p", ds); err != nil || len(m) != 0 {
		t.Fatalf("MissingBlobs after upload = %v, %v", m, err)
	}
}

// TestManyDigestsListBucket: above the probe limit the bucket is listed in
// pages instead of asked object by object.
func TestManyDigestsListBucket(t *testing.T) {
	b, f := newTestBackend(t)
	var ds []string
	for i := range probeLimit + 5 {
		data := []byte(fmt.Sprintf("file %d", i))
		if i%2 == 0 {
			putBytes(t, b, data)
		}
		ds = append(ds, sha1hex(data))
	}
	before := len(f.callLog())
	missing, err := b.MissingBlobs(t.Context(), "p", ds)
	if err != nil {
		t.Fatal(err)
	}
	if want := (probeLimit + 5) / 2; len(missing) != want {
		t.Fatalf("%d missing, want %d", len(missing), want)
	}
	for _, c := range f.callLog()[before:] {
		if !strings.HasPrefix(c, "GET /storage/v1/b/staging.p.appspot.com/o") {
			t.Errorf("unexpected call %s", c)
		}
	}
}

// TestSmallUploadIsMedia: a blob up to the resumable threshold is one
// uploadType=media request whose body is the content itself, named by its
// digest in the query, stored as application/octet-stream (it was
// multipart, which copied each content into a second body for the server to
// parse apart); the empty blob too.
func TestSmallUploadIsMedia(t *testing.T) {
	b, f := newTestBackend(t)
	type seen struct {
		query, contentType string
		body               []byte
	}
	var (
		mu   sync.Mutex
		reqs []seen
	)
	f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/upload/") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			reqs = append(reqs, seen{r.URL.RawQuery, r.Header.Get("Content-Type"), body})
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		return false
	}
	for _, content := range [][]byte{[]byte("print('hello')\n"), {}} {
		mu.Lock()
		reqs = nil
		mu.Unlock()
		d := putBytes(t, b, content)
		mu.Lock()
		reqs := reqs
		mu.Unlock()
		if len(reqs) != 1 {
			t.Fatalf("%d upload requests for one small blob, want 1", len(reqs))
		}
		q, err := url.ParseQuery(reqs[0].query)
		if err != nil || q.Get("uploadType") != "media" || q.Get("name") != d {
			t.Errorf("upload query %q: want uploadType=media and name=%s", reqs[0].query, d)
		}
		if reqs[0].contentType != "application/octet-stream" || !bytes.Equal(reqs[0].body, content) {
			t.Errorf("upload sent Content-Type %q and body %q, want application/octet-stream and %q", reqs[0].contentType, reqs[0].body, content)
		}
		obj, err := f.gcs.GetObject("staging.p.appspot.com", d)
		if err != nil || !bytes.Equal(obj.Content, content) || obj.ContentType != "application/octet-stream" {
			t.Errorf("stored object %s: %q (%q), %v; want %q as application/octet-stream", d, obj.Content, obj.ContentType, err, content)
		}
	}
}

// TestExpiringObjectsCountMissing: with a lifecycle deleting after one day,
// objects are about to expire and must be sent again.
func TestExpiringObjectsCountMissing(t *testing.T) {
	for _, tc := range []struct {
		age     int
		missing int
	}{{1, 1}, {30, 0}} {
		b, f := newTestBackend(t)
		f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == "GET" && r.URL.Path == "/storage/v1/b/staging.p.appspot.com" {
				writeJSON(w, 200, map[string]any{"lifecycle": map[string]any{"rule": []any{
					map[string]any{"action": map[string]any{"type": "Delete"}, "condition": map[string]any{"age": tc.age}}}}})
				return true
			}
			return false
		}
		b.now = func() time.Time { return time.Now().Add(time.Hour) }
		d := putBytes(t, b, []byte("old content"))
		m, err := b.MissingBlobs(t.Context(), "p", []string{d})
		if err != nil || len(m) != tc.missing {
			t.Errorf("lifecycle age %d days: MissingBlobs = %v, %v; want %d missing", tc.age, m, err, tc.missing)
		}
	}
}

// TestResumableUploadResumes: a 13 MiB blob goes in chunks; the second
// chunk fails once, the session is asked what it holds, and the upload
// resumes from there.
func TestResumableUploadResumes(t *testing.T) {
	b, f := newTestBackend(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 13<<16) // 13 MiB
	var mu sync.Mutex
	heldBy := map[string]int64{} // what each session holds, as GCS would report it
	failed, queried := false, 0
	f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != "PUT" || !strings.Contains(r.URL.RawQuery, "upload_id") {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		id := r.URL.Query().Get("upload_id")
		held := heldBy[id]
		cr := r.Header.Get("Content-Range")
		if strings.HasPrefix(cr, "bytes */") {
			// fake-gcs-server treats a status query as a final chunk;
			// answer it as GCS does.
			queried++
			answerStatusQuery(w, held)
			return true
		}
		start, end := chunkRange(t, cr, held)
		if start > 0 && !failed {
			failed = true
			io.Copy(io.Discard, r.Body)
			writeErr(w, http.StatusServiceUnavailable, "UNAVAILABLE", "injected")
			return true
		}
		heldBy[id] = end + 1
		return false
	}
	d := putBytes(t, b, data)
	if !failed || queried == 0 {
		t.Fatalf("the failure was not exercised (failed %v, status queries %d)", failed, queried)
	}
	obj, err := f.gcs.GetObject("staging.p.appspot.com", d)
	if err != nil || !bytes.Equal(obj.Content, data) {
		t.Fatalf("stored object: %d bytes, %v; want the %d bytes sent", len(obj.Content), err, len(data))
	}
	// A wrong digest on a large blob stores nothing: the last chunk is
	// only sent after verification.
	bad := append([]byte(nil), data...)
	bad[len(bad)-1] ^= 1
	claimed := sha1hex(data[:len(data)-1])
	err = b.PutBlob(t.Context(), "p", claimed, int64(len(bad)), bytes.NewReader(bad))
	if !errors.Is(err, backend.ErrDigestMismatch) {
		t.Fatalf("large blob with a wrong digest: %v, want ErrDigestMismatch", err)
	}
	if _, err := f.gcs.GetObject("staging.p.appspot.com", claimed); err == nil {
		t.Fatal("a large blob with a wrong digest was stored")
	}
}

// TestRetriesIdempotentOnly: a 503 is retried for GETs and uploads, never
// for versions.create.
func TestRetriesIdempotentOnly(t *testing.T) {
	b, f := newTestBackend(t)
	f.failNext("GET", `^/v1/apps/p$`, 503, 500)
	f.failNext("POST", `^/upload/`, 503)
	d := putBytes(t, b, []byte("x"))
	f.failNext("POST", `/versions$`, 503)
	_, err := b.CreateVersion(t.Context(), backend.VersionSpec{App: "p", Service: "default", Version: "v1", Runtime: "go122",
		Files: []backend.FileRef{{Path: "x", SHA1: d, Size: 1}}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 503 {
		t.Fatalf("versions.create after a 503: %v, want the 503 reported (not retried)", err)
	}
	if _, err := b.CreateVersion(t.Context(), backend.VersionSpec{App: "p", Service: "default", Version: "v1", Runtime: "go122",
		Files: []backend.FileRef{{Path: "x", SHA1: d, Size: 1}}}); err != nil {
		t.Fatalf("versions.create again: %v", err)
	}
}

// TestThrottlingHalvesConcurrency: 429 answers with Retry-After halve the
// upload limit; successes grow it back.
func TestThrottlingHalvesConcurrency(t *testing.T) {
	b, f := newTestBackend(t)
	var throttled atomic.Int32
	f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/upload/") && throttled.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			writeErr(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "slow down")
			return true
		}
		return false
	}
	putBytes(t, b, []byte("throttled"))
	if got := b.uploads.current(); got != 4 {
		t.Fatalf("after two 429s the limit is %d, want 16/2/2 = 4", got)
	}
	for i := range 4 {
		putBytes(t, b, []byte(fmt.Sprintf("ok %d", i)))
	}
	if got := b.uploads.current(); got != 5 {
		t.Fatalf("after 5 successes the limit is %d, want 5", got)
	}
	l := newLimiter(2)
	l.throttle(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire during a Retry-After pause with a cancelled context: %v", err)
	}
}

func TestDispatchAndUnsupportedConfigs(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := t.Context()
	if _, err := b.Config(ctx, "p", backend.ConfigDispatch); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Config(dispatch) before any: %v, want ErrNotFound", err)
	}
	doc := []byte("dispatch:\n- url: \"*/api/*\"\n  service: api\n- url: example.com/\n  module: web\n")
	if err := b.PutConfig(ctx, "p", backend.ConfigDispatch, doc); err != nil {
		t.Fatal(err)
	}
	got, err := b.Config(ctx, "p", backend.ConfigDispatch)
	if err != nil {
		t.Fatal(err)
	}
	if want := "dispatch:\n    - url: '*/api/*'\n      service: api\n    - url: example.com/\n      service: web\n"; string(got) != want {
		t.Errorf("Config(dispatch) = %q, want %q", got, want)
	}
	for _, k := range []backend.ConfigKind{backend.ConfigCron, backend.ConfigQueue, backend.ConfigDOS} {
		err := b.PutConfig(ctx, "p", k, []byte("x: 1\n"))
		if !errors.Is(err, backend.ErrUnsupported) || !strings.Contains(err.Error(), "gcloud") {
			t.Errorf("PutConfig(%s) = %v, want ErrUnsupported saying what to use", k, err)
		}
	}
}

func TestLogsEmptyPageWithToken(t *testing.T) {
	b, f := newTestBackend(t)
	w := fakeLogWriter{f}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := w.WriteLogs(t.Context(), "p", []backend.RequestLog{{Time: base, Method: "GET", Resource: "/hello?x=1", HTTPVersion: "HTTP/1.1", Status: 200, Service: "default", Version: "v2", Latency: 120 * time.Millisecond, Bytes: 42}}); err != nil {
		t.Fatal(err)
	}
	f.emptyPage = true
	var got []backend.RequestLog
	err := b.ReadLogs(t.Context(), backend.LogQuery{App: "p"}, func(l backend.RequestLog) error { got = append(got, l); return nil })
	if err != nil || len(got) != 1 || got[0].Latency != 120*time.Millisecond || got[0].Bytes != 42 || got[0].Version != "v2" {
		t.Fatalf("ReadLogs past an empty page = %+v, %v", got, err)
	}
}

func TestLogFilter(t *testing.T) {
	q := backend.LogQuery{App: "p", Service: "default", Version: "v2",
		Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	want := `resource.type="gae_app" AND logName="projects/p/logs/appengine.googleapis.com%2Frequest_log" AND resource.labels.module_id="default" AND resource.labels.version_id="v2" AND timestamp>="2026-11-01T00:00:00Z" AND timestamp<"2026-11-02T00:00:00Z"`
	if got := LogFilter("p", q); got != want {
		t.Errorf("LogFilter =\n%s\nwant\n%s", got, want)
	}
}

func TestEndpointsAndLocations(t *testing.T) {
	for _, tc := range []struct {
		ep Endpoints
		ok bool
	}{
		{Endpoints{}, true},
		{Endpoints{AppEngine: "http://127.0.0.1:8080"}, true},
		{Endpoints{Storage: "http://[::1]:9/"}, true},
		{Endpoints{Logging: "http://localhost:9/"}, true},
		{Endpoints{Datastore: "http://example.com/"}, false},
		{Endpoints{AppEngine: "ftp://127.0.0.1/"}, false},
		{Endpoints{AppEngine: "https://private.example.com/base"}, true},
	} {
		r, err := tc.ep.resolve()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: error %v, want ok=%v", tc.ep, err, tc.ok)
		}
		if err == nil && !strings.HasSuffix(r.AppEngine, "/") {
			t.Errorf("%+v: base %q lacks the trailing slash", tc.ep, r.AppEngine)
		}
	}
	hc := &http.Client{}
	env := backend.Env{HTTPClient: hc}
	b, err := Factory{}.Open(t.Context(), "appengine://my-proj?appengine=http://127.0.0.1:1/", "//my-proj?appengine=http://127.0.0.1:1/", env)
	if err != nil {
		t.Fatal(err)
	}
	ab := b.(*Backend)
	if ab.project != "my-proj" || ab.ep.AppEngine != "http://127.0.0.1:1/" || ab.ep.Storage != production.Storage {
		t.Errorf("opened %+v", ab)
	}
	if _, err := (Factory{}).Open(t.Context(), "appengine:p?storage=http://evil.example/", "p?storage=http://evil.example/", env); err == nil {
		t.Error("plain http to a remote host was accepted")
	}
	if _, err := (Factory{}).Open(t.Context(), "appengine:p", "p", backend.Env{}); err == nil {
		t.Error("opening without an HTTP client succeeded")
	}
	if _, err := ab.projectOf(""); err != nil {
		t.Error(err)
	}
	if _, err := ab.projectOf("Bad Project"); err == nil {
		t.Error("a bad project id was accepted")
	}
}

// TestTokenRefreshedMidDeploy: tokens expire almost at once and the API
// accepts only the newest; a whole deploy still succeeds because the
// client refreshes the expired token before each call.
func TestTokenRefreshedMidDeploy(t *testing.T) {
	f := newFakeCloud(t)
	var mu sync.Mutex
	issued := 0
	current := ""
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != "1//refresh" {
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		}
		mu.Lock()
		issued++
		current = fmt.Sprintf("ya29.tok-%d", issued)
		tok := current
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		// 1 s is inside x/oauth2's 10 s early-refresh window: expired.
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 1})
	}))
	defer tokens.Close()
	f.tokenOK = func(tok string) bool {
		mu.Lock()
		defer mu.Unlock()
		return tok == current
	}
	cfg := &oauth2.Config{ClientID: "id", ClientSecret: "secret", Endpoint: oauth2.Endpoint{TokenURL: tokens.URL}}
	hc := cfg.Client(t.Context(), &oauth2.Token{RefreshToken: "1//refresh"})
	b, err := New(Options{Project: "p", HTTPClient: hc, Endpoints: f.endpoints(), PollInitial: time.Millisecond, PollInterval: time.Millisecond, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d := putBytes(t, b, []byte("hello"))
	if _, err := b.CreateVersion(t.Context(), backend.VersionSpec{App: "p", Service: "default", Version: "v1", Runtime: "go122",
		Files: []backend.FileRef{{Path: "hello", SHA1: d, Size: 5}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetTraffic(t.Context(), "p", "default", map[string]float64{"v1": 1}, false); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if issued < 5 {
		t.Fatalf("only %d tokens were issued during the deploy, want a refresh per call", issued)
	}
}

// TestPreflight: App Engine says before any upload that it takes no DoS,
// cron or queue configuration (naming the replacement) and deploys no
// flexible-environment version (naming gcloud app deploy).
func TestPreflight(t *testing.T) {
	b, f := newTestBackend(t)
	var p backend.Preflight = b
	for _, k := range []backend.ConfigKind{backend.ConfigCron, backend.ConfigQueue, backend.ConfigDOS} {
		if err := p.CheckConfig(k); !errors.Is(err, backend.ErrUnsupported) || !strings.Contains(err.Error(), "gcloud") {
			t.Errorf("CheckConfig(%s) = %v, want ErrUnsupported naming what replaced it", k, err)
		}
	}
	if err := p.CheckConfig(backend.ConfigDOS); err == nil || !strings.Contains(err.Error(), "firewall") {
		t.Errorf("CheckConfig(dos) = %v, want it to name firewall rules", err)
	}
	if err := p.CheckConfig(backend.ConfigDispatch); err != nil {
		t.Errorf("CheckConfig(dispatch) = %v", err)
	}
	for _, cfg := range []string{"runtime: custom\nenv: flex\n", "runtime: python\nenv: flexible\n", "runtime: custom\nvm: true\n"} {
		err := p.CheckVersion(backend.VersionSpec{App: "p", Service: "default", Version: "v1", Model: appconfigtest.Model(t, "app.yaml", cfg)})
		if err == nil || !strings.Contains(err.Error(), "gcloud app deploy") {
			t.Errorf("CheckVersion(%q) = %v, want a refusal naming gcloud app deploy", cfg, err)
		}
	}
	for _, cfg := range []string{"runtime: python312\n", "runtime: go122\nenv: standard\n"} {
		if err := p.CheckVersion(backend.VersionSpec{App: "p", Service: "default", Version: "v1", Model: appconfigtest.Model(t, "app.yaml", cfg)}); err != nil {
			t.Errorf("CheckVersion(%q) = %v", cfg, err)
		}
	}
	if calls := f.callLog(); len(calls) != 0 {
		t.Errorf("preflight called the APIs: %v", calls)
	}
}
