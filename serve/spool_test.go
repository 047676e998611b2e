package serve_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/serve"
)

// listedLogs counts the logs of the fixture's app another opening of its
// store (another process) lists, by resource.
func listedLogs(t *testing.T, f *fixture) map[string]int {
	t.Helper()
	other, err := local.Open(t.Context(), "", local.Config{Root: f.store.Root()}, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	seen := map[string]int{}
	err = other.ReadLogs(t.Context(), backend.LogQuery{App: "shop", End: f.now.Add(time.Hour)}, func(l backend.RequestLog) error {
		seen[l.Resource]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// With a spool, a response does not wait for a store write, yet every
// answered request is on record at once: a reader of the store lists it,
// once, before the server folded it and after.
func TestSpooledRequestsListedOnce(t *testing.T) {
	f := newFixture(t)
	sp, err := f.store.OpenLogSpool(t.Context(), "shop", backend.LineFormat{})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = f.server(t, serve.Config{Spool: sp})
	const n = 50
	for i := range n {
		if r := f.do(t, http.MethodGet, fmt.Sprintf("http://localhost/static/css/site.css?i=%d", i)); r.status != 200 {
			t.Fatalf("answered %d", r.status)
		}
	}
	check := func(when string) {
		seen := listedLogs(t, f)
		for i := range n {
			if k := fmt.Sprintf("/static/css/site.css?i=%d", i); seen[k] != 1 {
				t.Errorf("%s: %s listed %d times, want once", when, k, seen[k])
			}
		}
	}
	check("while serving")
	if got := f.srv.Recorded(); got != n {
		t.Errorf("Recorded() = %d, want %d", got, n)
	}
	if err := f.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("after Close")
	if left, _ := filepath.Glob(filepath.Join(f.store.Root(), "logs", "spools", "*")); len(left) != 0 {
		t.Errorf("spools %v left after Close", left)
	}
}

// refusingSpool takes nothing, as a full spool or a failed write would.
type refusingSpool struct{ refused atomic.Int32 }

func (s *refusingSpool) Append([]backend.RequestLog) error {
	s.refused.Add(1)
	return errors.New("spooling request logs: the spool holds 64 MiB not yet written to the store")
}
func (s *refusingSpool) Fold(context.Context) (int, error)  { return 0, nil }
func (s *refusingSpool) Close(context.Context) (int, error) { return 0, nil }

// A log the spool refuses is written to the store as before, and the
// refusal is reported.
func TestRefusedSpoolWritesThrough(t *testing.T) {
	f := newFixture(t)
	sp := &refusingSpool{}
	var errs atomic.Int32
	srv, err := serve.New(serve.Config{App: "shop", Versions: f.store, Contents: f.store, Logs: f.store, Spool: sp,
		Now: func() time.Time { return f.now }, OnError: func(error) { errs.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	for i := range 5 {
		f.do(t, http.MethodGet, fmt.Sprintf("http://localhost/favicon.ico?i=%d", i))
	}
	if got := len(listedLogs(t, f)); got != 5 {
		t.Errorf("%d logs listed before Close, want 5 (each written before its response)", got)
	}
	if err := srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if sp.refused.Load() != 5 || errs.Load() != 5 || srv.Recorded() != 5 {
		t.Errorf("%d refused, %d errors, %d recorded; want 5 each", sp.refused.Load(), errs.Load(), srv.Recorded())
	}
}
