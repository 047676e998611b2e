package serve_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/serve"
)

// countingStore counts the version lists a server asks the store for.
type countingStore struct {
	*local.Backend
	lists atomic.Int64
}

func (c *countingStore) ListVersions(ctx context.Context, app, service string) ([]backend.Version, error) {
	c.lists.Add(1)
	return c.Backend.ListVersions(ctx, app, service)
}

// Requests are routed by the version list read last while the store's
// stamp says nothing changed (a query per request cost more than the
// proxying), and a change made meanwhile, by this process or another,
// routes the very next request.
func TestVersionListKeptUntilVersionsChange(t *testing.T) {
	f := newFixture(t)
	cs := &countingStore{Backend: f.store}
	srv, err := serve.New(serve.Config{App: "shop", Versions: cs, Contents: f.store, Logs: f.store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	f.srv = srv
	for range 20 {
		if r := f.do(t, http.MethodGet, "http://localhost/static/css/site.css"); r.status != 200 {
			t.Fatalf("static file: %d %q", r.status, r.body)
		}
	}
	if n := cs.lists.Load(); n != 1 {
		t.Errorf("20 requests listed the versions %d times, want once", n)
	}
	// Another open of the same store stops the version, as
	// stop_module_version run beside serve would.
	other, err := local.Open(t.Context(), "", local.Config{Root: f.store.Root()}, backend.Env{User: "other"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.SetServingStatus(t.Context(), "shop", "default", "v1", backend.Stopped); err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/static/css/site.css"); r.status != http.StatusServiceUnavailable {
		t.Fatalf("the first request after the stop answered %d, want 503", r.status)
	}
	if err := other.SetServingStatus(t.Context(), "shop", "default", "v1", backend.Serving); err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/static/css/site.css"); r.status != 200 {
		t.Fatalf("the first request after the start answered %d, want 200", r.status)
	}
	if n := cs.lists.Load(); n != 3 {
		t.Errorf("the versions were listed %d times, want 3 (once per change)", n)
	}
}
