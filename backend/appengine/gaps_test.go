package appengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/appcfg/appcfg/appconfig/appconfigtest"
	"github.com/appcfg/appcfg/backend"
)

// newBackendOn opens another backend on the fake f with extra options.
func newBackendOn(t *testing.T, f *fakeCloud, o Options) *Backend {
	t.Helper()
	o.Project = "p"
	o.HTTPClient = oauth2.NewClient(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}))
	o.Endpoints = f.endpoints()
	o.PollInitial, o.PollInterval, o.RetryBase = time.Millisecond, time.Millisecond, time.Millisecond
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestCreateAppWhenMissing: a project without an application fails with a
// message naming --create_app, and with CreateApp the application is
// created (apps.create, polled) in that region before the deploy goes on.
func TestCreateAppWhenMissing(t *testing.T) {
	_, f := newTestBackend(t)
	f.noApps = true
	f.opPolls = 2
	digest := sha1hex([]byte("x"))
	plain := newBackendOn(t, f, Options{})
	_, err := plain.MissingBlobs(t.Context(), "p", []string{digest})
	if err == nil || !strings.Contains(err.Error(), "--create_app REGION") {
		t.Fatalf("deploying to a project with no app: %v, want an error naming --create_app REGION", err)
	}
	f.mu.Lock()
	created := f.apps["p"] != nil
	f.mu.Unlock()
	if created {
		t.Fatal("an application was created without --create_app")
	}
	creating := newBackendOn(t, f, Options{CreateApp: "europe-west"})
	missing, err := creating.MissingBlobs(t.Context(), "p", []string{digest})
	if err != nil || len(missing) != 1 {
		t.Fatalf("MissingBlobs after creating the app = %v, %v", missing, err)
	}
	f.mu.Lock()
	loc := f.apps["p"].location
	f.mu.Unlock()
	if loc != "europe-west" {
		t.Errorf("the app was created in %q, want europe-west", loc)
	}
	calls := strings.Join(f.callLog(), "\n")
	if !strings.Contains(calls, "POST /v1/apps\n") || !strings.Contains(calls, "GET /v1/apps/p/operations/") {
		t.Errorf("apps.create was not called and polled:\n%s", calls)
	}
}

// TestRepairLostCodeBucket: an application without a code bucket is
// repaired (apps:repair) and the deploy uses the bucket it gets back.
func TestRepairLostCodeBucket(t *testing.T) {
	b, f := newTestBackend(t)
	f.mu.Lock()
	f.app("p").bucket = ""
	f.mu.Unlock()
	d := putBytes(t, b, []byte("after the repair\n"))
	if _, err := f.gcs.GetObject("staging.p.appspot.com", d); err != nil {
		t.Fatalf("the blob is not in the repaired bucket: %v", err)
	}
	if calls := strings.Join(f.callLog(), "\n"); !strings.Contains(calls, "POST /v1/apps/p:repair") {
		t.Errorf("apps:repair was not called:\n%s", calls)
	}
}

// TestPromoteStopsPreviousVersion: a promote stops the version that had
// all the traffic when it bills idle instances (manual scaling), leaves an
// automatic-scaling standard version serving, and KeepPrevious keeps it.
func TestPromoteStopsPreviousVersion(t *testing.T) {
	b, f := newTestBackend(t)
	ctx := t.Context()
	content := []byte("print(1)\n")
	d := putBytes(t, b, content)
	create := func(b *Backend, service, version, yaml string) {
		t.Helper()
		spec := backend.VersionSpec{App: "p", Service: service, Version: version, Runtime: "python312", Model: appconfigtest.Model(t, "app.yaml", "runtime: python312\n"+yaml),
			Files: []backend.FileRef{{Path: "main.py", SHA1: d, Size: int64(len(content))}}}
		if _, err := b.CreateVersion(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	status := func(service, version string) string {
		t.Helper()
		v, err := b.Version(ctx, "p", service, version)
		if err != nil {
			t.Fatal(err)
		}
		return string(v.ServingStatus)
	}
	// promote routes all traffic of service to version, then expects the
	// version that had it to be in state want.
	promote := func(b *Backend, service, version, previous, want string) {
		t.Helper()
		if err := b.SetTraffic(ctx, "p", service, map[string]float64{version: 1}, false); err != nil {
			t.Fatal(err)
		}
		if got := status(service, previous); got != want {
			t.Errorf("after promoting %s, the previous version %s is %s, want %s", version, previous, got, want)
		}
	}
	keep := newBackendOn(t, f, Options{KeepPrevious: true})
	manual, basic := "manual_scaling:\n  instances: 1\n", "basic_scaling:\n  max_instances: 2\n"
	for _, c := range []struct {
		b                  *Backend
		service            string
		previous, prevYAML string // "" YAML: the previous version exists already
		latest, latestYAML string
		want               string
	}{
		{b, "default", "manual1", manual, "auto2", "", "STOPPED"}, // bills while idle
		{b, "default", "auto2", "", "auto3", "", "SERVING"},       // automatic standard: idles for free
		{keep, "other", "basic1", basic, "basic2", basic, "SERVING"},
	} {
		if c.prevYAML != "" {
			create(c.b, c.service, c.previous, c.prevYAML)
		}
		create(c.b, c.service, c.latest, c.latestYAML)
		promote(c.b, c.service, c.latest, c.previous, c.want)
	}
	// A split (not a promote) stops nothing.
	create(b, "other", "basic3", "basic_scaling:\n  max_instances: 2\n")
	if err := b.SetTraffic(ctx, "p", "other", map[string]float64{"basic2": 0.5, "basic3": 0.5}, false); err != nil {
		t.Fatal(err)
	}
	if got := status("other", "basic2"); got != "SERVING" {
		t.Errorf("a split stopped version basic2 (%s)", got)
	}
}

// TestPromoteAfterCreateReadsNothingAgain: the promote that follows
// CreateVersion reuses the service CreateVersion read. A first version of
// its service is promoted with the PATCH alone (it read the service and
// listed its versions again, two round trips gcloud does not make); a
// version that took the traffic from another one still lists the versions
// (to stop the previous one if it bills idle), reading the service once;
// a promote of any other version reads as before and still refuses one
// that does not exist.
func TestPromoteAfterCreateReadsNothingAgain(t *testing.T) {
	b, f := newTestBackend(t)
	ctx := t.Context()
	content := []byte("print(2)\n")
	d := putBytes(t, b, content)
	create := func(version string) {
		t.Helper()
		spec := backend.VersionSpec{App: "p", Service: "s", Version: version, Runtime: "python312", Model: appconfigtest.Model(t, "app.yaml", "runtime: python312\n"),
			Files: []backend.FileRef{{Path: "main.py", SHA1: d, Size: int64(len(content))}}}
		if _, err := b.CreateVersion(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	// reads returns the GETs of the service and of its versions list
	// that promoting version made after its creation.
	reads := func(version string) []string {
		t.Helper()
		f.mu.Lock()
		f.calls = nil
		f.mu.Unlock()
		if err := b.SetTraffic(ctx, "p", "s", map[string]float64{version: 1}, false); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range f.callLog() {
			if c == "GET /v1/apps/p/services/s" || c == "GET /v1/apps/p/services/s/versions" {
				out = append(out, c)
			}
		}
		return out
	}
	create("v1")
	if got := reads("v1"); len(got) != 0 {
		t.Errorf("promoting the first version of the service just created read %q, want nothing", got)
	}
	create("v2")
	if got, want := strings.Join(reads("v2"), ", "), "GET /v1/apps/p/services/s/versions"; got != want {
		t.Errorf("promoting v2 over v1 read %q, want %q", got, want)
	}
	create("v3")
	if got, want := strings.Join(reads("v1"), ", "), "GET /v1/apps/p/services/s/versions, GET /v1/apps/p/services/s"; got != want {
		t.Errorf("promoting v1, not the version just created, read %q, want %q", got, want)
	}
	create("v4")
	if err := b.SetTraffic(ctx, "p", "s", map[string]float64{"nope": 1}, false); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("promoting a version that does not exist after a create: %v, want ErrNotFound", err)
	}
	if got, err := b.Version(ctx, "p", "s", "v1"); err != nil || got.Traffic != 1 {
		t.Errorf("after the promotes, v1 = %+v, %v; want all the traffic", got, err)
	}
}

// answerStatusQuery answers a resumable session's status query as GCS does
// (fake-gcs-server takes it for a final chunk): 308 with the Range held.
func answerStatusQuery(w http.ResponseWriter, held int64) {
	if held > 0 {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", held-1))
	}
	w.WriteHeader(http.StatusPermanentRedirect)
}

// chunkRange reads a chunk's Content-Range and checks that it starts where
// the session stands.
func chunkRange(t *testing.T, contentRange string, held int64) (start, end int64) {
	t.Helper()
	fmt.Sscanf(contentRange, "bytes %d-%d/", &start, &end)
	if start != held {
		t.Errorf("chunk starts at %d, the session holds %d", start, held)
	}
	return start, end
}

// TestResumableUploadAcrossRuns: a large upload that fails after its first
// chunk leaves its session on disk (mode 0600); the next backend (the next
// run) resumes that session instead of starting again, sends only what the
// server lacks, and removes the record once the object is stored. A saved
// session the server no longer knows is replaced by a new one.
func TestResumableUploadAcrossRuns(t *testing.T) {
	_, f := newTestBackend(t)
	dir := filepath.Join(t.TempDir(), "sessions")
	data := bytes.Repeat([]byte("fedcba9876543210"), 11<<16) // 11 MiB: two chunks
	digest := sha1hex(data)
	var mu sync.Mutex
	heldBy := map[string]int64{} // what each session holds, as GCS would report it
	starts, firstChunks := 0, 0
	failLater := true
	f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == "POST" && r.URL.Query().Get("uploadType") == "resumable" {
			starts++
			return false
		}
		if r.Method != "PUT" || !strings.Contains(r.URL.RawQuery, "upload_id") {
			return false
		}
		id := r.URL.Query().Get("upload_id")
		held, known := heldBy[id]
		cr := r.Header.Get("Content-Range")
		if strings.HasPrefix(cr, "bytes */") {
			// fake-gcs-server treats a status query as a final
			// chunk; answer it as GCS does.
			if !known {
				writeErr(w, http.StatusNotFound, "NOT_FOUND", "no such upload")
				return true
			}
			answerStatusQuery(w, held)
			return true
		}
		start, end := chunkRange(t, cr, held)
		if start == 0 {
			firstChunks++
		}
		if start > 0 && failLater {
			io.Copy(io.Discard, r.Body)
			writeErr(w, http.StatusBadRequest, "INVALID_ARGUMENT", "injected")
			return true
		}
		heldBy[id] = end + 1
		return false
	}
	first := newBackendOn(t, f, Options{SessionDir: dir})
	if err := first.PutBlob(t.Context(), "p", digest, int64(len(data)), bytes.NewReader(data)); err == nil {
		t.Fatal("the injected failure did not fail the first run")
	}
	saved, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(saved) != 1 {
		t.Fatalf("session records after the failed run: %v, want 1", saved)
	}
	if fi, err := os.Stat(saved[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session record %s: %v, mode %v; want 0600", saved[0], err, fi.Mode().Perm())
	}
	mu.Lock()
	failLater = false
	mu.Unlock()
	second := newBackendOn(t, f, Options{SessionDir: dir})
	if err := second.PutBlob(t.Context(), "p", digest, int64(len(data)), bytes.NewReader(data)); err != nil {
		t.Fatalf("the second run: %v", err)
	}
	mu.Lock()
	if starts != 1 || firstChunks != 1 {
		t.Errorf("sessions started %d, first chunks sent %d; want 1 and 1 (the second run resumes)", starts, firstChunks)
	}
	mu.Unlock()
	obj, err := f.gcs.GetObject("staging.p.appspot.com", digest)
	if err != nil || !bytes.Equal(obj.Content, data) {
		t.Fatalf("stored object: %d bytes, %v; want the %d bytes sent", len(obj.Content), err, len(data))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(left) != 0 {
		t.Errorf("session records left after the upload: %v", left)
	}

	// A session the server forgot: a new one is started.
	other := bytes.Repeat([]byte("0123456789abcdef"), 11<<16)
	od := sha1hex(other)
	if err := second.saveSession("staging.p.appspot.com", od, int64(len(other)), f.storage.URL+"/upload/storage/v1/b/staging.p.appspot.com/o?uploadType=resumable&upload_id=forgotten"); err != nil {
		t.Fatal(err)
	}
	if err := second.PutBlob(t.Context(), "p", od, int64(len(other)), bytes.NewReader(other)); err != nil {
		t.Fatalf("upload after a forgotten session: %v", err)
	}
	mu.Lock()
	if starts != 2 {
		t.Errorf("sessions started %d, want 2 (a new one for the forgotten session)", starts)
	}
	mu.Unlock()
}

// TestFactorySettings: the Settings the factory is built with reach the
// backend through a plain context (no value rides in it), and create_app
// in the location wins over them.
func TestFactorySettings(t *testing.T) {
	ctx := t.Context()
	fac := NewFactory(Settings{CreateApp: "us-central", KeepPrevious: true, SessionDir: "/sessions"})
	env := backend.Env{HTTPClient: http.DefaultClient}
	bb, err := fac.Open(ctx, "appengine://p", "//p", env)
	if err != nil {
		t.Fatal(err)
	}
	b := bb.(*Backend)
	if b.createApp != "us-central" || !b.keepPrevious || b.sessions != "/sessions" {
		t.Errorf("settings not applied: createApp %q, keepPrevious %v, sessions %q", b.createApp, b.keepPrevious, b.sessions)
	}
	bb, err = fac.Open(ctx, "appengine://p?create_app=asia-northeast1", "//p?create_app=asia-northeast1", env)
	if err != nil {
		t.Fatal(err)
	}
	if got := bb.(*Backend).createApp; got != "asia-northeast1" {
		t.Errorf("create_app in the location gave %q", got)
	}
	if _, err := (Factory{}).Open(t.Context(), "appengine://p?nope=1", "//p?nope=1", env); err == nil || !strings.Contains(err.Error(), "create_app") {
		t.Errorf("an unknown parameter: %v, want an error listing create_app", err)
	}
}

// TestPrefetchedListing: after Prefetch the bucket is listed once, in the
// background, and MissingBlobs answers from that listing.
func TestPrefetchedListing(t *testing.T) {
	b, f := newTestBackend(t)
	var ds []string
	for i := range probeLimit + 6 {
		if i%2 == 0 {
			ds = append(ds, putBytes(t, b, []byte(fmt.Sprintf("stored %d\n", i))))
		} else {
			ds = append(ds, sha1hex([]byte(fmt.Sprintf("absent %d\n", i))))
		}
	}
	listings := func() int {
		n := 0
		for _, c := range f.callLog() {
			if c == "GET /storage/v1/b/staging.p.appspot.com/o" {
				n++
			}
		}
		return n
	}
	before := listings()
	pre := newBackendOn(t, f, Options{})
	pre.Prefetch(t.Context(), "p")
	pre.Prefetch(t.Context(), "p") // one listing under way is not repeated
	pre.mu.Lock()
	l := pre.pending["p"]
	pre.mu.Unlock()
	if l == nil {
		t.Fatal("Prefetch started no listing")
	}
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the background listing did not end within 10s")
	}
	if got := listings() - before; got != 1 {
		t.Errorf("%d listing calls by Prefetch, want 1 (a bucket of one page)", got)
	}
	missing, err := pre.MissingBlobs(t.Context(), "p", ds)
	if err != nil || len(missing) != len(ds)/2 {
		t.Fatalf("MissingBlobs = %d missing, %v; want %d", len(missing), err, len(ds)/2)
	}
	if got := listings() - before; got != 1 {
		t.Errorf("%d listing calls in all, want 1: MissingBlobs listed again", got)
	}
	// Closing while a prefetch may still run leaves nothing behind, and
	// a closed backend starts none.
	running := newBackendOn(t, f, Options{})
	running.Prefetch(t.Context(), "p")
	running.Close()
	running.Prefetch(t.Context(), "p")
	if len(running.stops) > 0 {
		t.Error("a closed backend started a listing")
	}
}

// TestPrefetchListsBesideLifecycle: Prefetch asks for the listing's first
// page as soon as the code bucket's name is known, while its lifecycle is
// read (the lifecycle read was a round trip before the listing on every
// deploy), and still judges each object by that lifecycle: with a rule
// deleting objects after a day, an object made now is not fresh enough to
// be reused (gcloud's margin of a day), without a rule it is. A lifecycle
// that cannot be read fails the listing, as before.
func TestPrefetchListsBesideLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lifecycle string // the lifecycle read's answer; "" for an error
		missing   int
	}{
		{"no rule", `{}`, 1},
		{"a day", `{"lifecycle":{"rule":[{"action":{"type":"Delete"},"condition":{"age":1}}]}}`, 2},
		{"unreadable", "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, f := newTestBackend(t)
			ds := []string{putBytes(t, b, []byte("stored\n")), sha1hex([]byte("absent\n"))}
			listed := make(chan struct{})
			var once sync.Once
			var overlapped atomic.Bool
			f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
				switch {
				case r.Method == "GET" && r.URL.Path == "/storage/v1/b/staging.p.appspot.com/o":
					once.Do(func() { close(listed) })
				case r.Method == "GET" && r.URL.Path == "/storage/v1/b/staging.p.appspot.com" && r.URL.Query().Get("fields") == "lifecycle":
					// The lifecycle is answered once the listing has
					// been asked for (or after 5 s, when it was not).
					select {
					case <-listed:
						overlapped.Store(true)
					case <-time.After(5 * time.Second):
					}
					if tc.lifecycle == "" {
						writeErr(w, 500, "INTERNAL", "injected failure")
					} else {
						io.WriteString(w, tc.lifecycle)
					}
					return true
				}
				return false
			}
			pre := newBackendOn(t, f, Options{RetryAttempts: 1})
			pre.Prefetch(t.Context(), "p")
			pre.mu.Lock()
			l := pre.pending["p"]
			pre.mu.Unlock()
			select {
			case <-l.done:
			case <-time.After(20 * time.Second):
				t.Fatal("the background listing did not end within 20s")
			}
			if !overlapped.Load() {
				t.Error("the listing was not asked for while the lifecycle was read")
			}
			if tc.missing < 0 {
				if l.err == nil {
					t.Error("a lifecycle that could not be read left the listing without an error")
				}
				return
			}
			if l.err != nil {
				t.Fatal(l.err)
			}
			missing, err := pre.MissingBlobs(t.Context(), "p", ds)
			if err != nil || len(missing) != tc.missing {
				t.Errorf("MissingBlobs = %v, %v; want %d missing", missing, err, tc.missing)
			}
		})
	}
}
