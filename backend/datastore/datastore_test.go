package datastore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// recorder is a fake API root: it records each call's method and body and
// answers with reply.
type recorder struct {
	mu    sync.Mutex
	calls []recorded
	reply func(n int, method string, body []byte) (int, string)
}

type recorded struct {
	method string
	body   []byte
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	_, method, _ := strings.Cut(req.URL.Path, ":")
	r.mu.Lock()
	r.calls = append(r.calls, recorded{method, body})
	n := len(r.calls)
	r.mu.Unlock()
	code, out := r.reply(n, method, body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, out)
}

func (r *recorder) methods() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var m []string
	for _, c := range r.calls {
		m = append(m, c.method)
	}
	return m
}

// fastRetry keeps the tests' backoff short; its length is not asserted.
// The attempt timeout only bounds a hung fake: no test waits for it, and
// TestCommitSplitsByBytes's 10 MB commits took more than 5 s each under
// -race on two cores at load 40, so it failed on load alone.
func fastRetry() Retry {
	return Retry{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, AttemptTimeout: 2 * time.Minute}
}

func newFake(t *testing.T, reply func(n int, method string, body []byte) (int, string)) (*Backend, *recorder) {
	t.Helper()
	rec := &recorder{reply: reply}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	b, err := New("datastore://?endpoint="+srv.URL, Config{Endpoint: srv.URL, Retry: fastRetry()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, rec
}

func okCommit(int, string, []byte) (int, string) { return 200, `{"mutationResults":[]}` }

func named(kind, name string) backend.Entity {
	return backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: kind, Name: name}}},
		Properties: map[string]backend.Value{"v": {Type: backend.StringType, String: name}}}
}

func TestRetriesTransientFailures(t *testing.T) {
	b, rec := newFake(t, func(n int, method string, _ []byte) (int, string) {
		switch n {
		case 1:
			return 503, `{"error":{"code":503,"message":"try later","status":"UNAVAILABLE"}}`
		case 2:
			return 500, `not json at all`
		case 3:
			return 409, `{"error":{"code":409,"message":"contention","status":"ABORTED"}}`
		}
		return okCommit(n, method, nil)
	})
	if _, err := b.PutEntities(t.Context(), "p", []backend.Entity{named("K", "a")}); err != nil {
		t.Fatalf("PutEntities after 3 transient failures: %v", err)
	}
	if got := rec.methods(); len(got) != 4 {
		t.Fatalf("calls = %v, want 4 commits", got)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	b, rec := newFake(t, func(int, string, []byte) (int, string) {
		return 429, `{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}`
	})
	_, err := b.PutEntities(t.Context(), "p", []backend.Entity{named("K", "a")})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != "RESOURCE_EXHAUSTED" || !strings.Contains(err.Error(), "4 times") {
		t.Fatalf("error = %v, want RESOURCE_EXHAUSTED after 4 attempts", err)
	}
	if n := len(rec.methods()); n != 4 {
		t.Fatalf("%d attempts, want 4", n)
	}
}

func TestDoesNotRetryFinalErrors(t *testing.T) {
	for _, reply := range []string{
		`{"error":{"code":400,"message":"bad key","status":"INVALID_ARGUMENT"}}`,
		`{"error":{"code":403,"message":"no","status":"PERMISSION_DENIED"}}`,
	} {
		b, rec := newFake(t, func(int, string, []byte) (int, string) {
			var w struct{ Error struct{ Code int } }
			json.Unmarshal([]byte(reply), &w)
			return w.Error.Code, reply
		})
		_, err := b.PutEntities(t.Context(), "p", []backend.Entity{named("K", "a")})
		if err == nil || len(rec.methods()) != 1 {
			t.Fatalf("reply %s: err %v after %d calls, want an error after 1", reply, err, len(rec.methods()))
		}
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b, _ := newFake(t, func(int, string, []byte) (int, string) {
		cancel()
		return 503, `{"error":{"code":503,"status":"UNAVAILABLE","message":"x"}}`
	})
	b.c.retry.MaxAttempts = 1000
	b.c.retry.BaseDelay = time.Hour
	b.c.retry.MaxDelay = time.Hour
	_, err := b.PutEntities(ctx, "p", []backend.Entity{named("K", "a")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

// TestIncompleteKeysAllocatedFirst checks that ids are allocated (and
// imported ids reserved) before the commit, so the commit carries only
// complete keys and stays safe to retry.
func TestIncompleteKeysAllocatedFirst(t *testing.T) {
	b, rec := newFake(t, func(n int, method string, body []byte) (int, string) {
		if method == "allocateIds" {
			var req keysRequest
			json.Unmarshal(body, &req)
			for i, k := range req.Keys {
				k.Path[len(k.Path)-1].ID = fmt.Sprint(1000 + i)
			}
			out, _ := json.Marshal(req)
			return 200, string(out)
		}
		return 200, `{}`
	})
	ents := []backend.Entity{
		{Key: &backend.Key{Path: []backend.PathElement{{Kind: "P", Name: "x"}, {Kind: "A"}}}, Properties: map[string]backend.Value{}},
		{Key: &backend.Key{Path: []backend.PathElement{{Kind: "A", ID: 7}}}, Properties: map[string]backend.Value{}},
		{Key: &backend.Key{Path: []backend.PathElement{{Kind: "A"}}}, Properties: map[string]backend.Value{}},
	}
	keys, err := b.PutEntities(t.Context(), "p", ents)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.methods(), ","); got != "reserveIds,allocateIds,commit" {
		t.Fatalf("calls = %s, want reserveIds,allocateIds,commit", got)
	}
	if keys[0].Path[1].ID != 1000 || keys[0].Path[0].Name != "x" || keys[1].Path[0].ID != 7 || keys[2].Path[0].ID != 1001 {
		t.Fatalf("keys = %+v", keys)
	}
	commit := string(rec.calls[2].body)
	if strings.Count(commit, `"upsert"`) != 3 || strings.Contains(commit, `{"kind":"A"}`) || !strings.Contains(commit, `"NON_TRANSACTIONAL"`) {
		t.Fatalf("commit body has an incomplete key or wrong mode: %s", commit)
	}
}

// TestCommitSplitsByBytes checks the 500-entity limit and the byte budget:
// the emulator enforces neither, so the client must.
func TestCommitSplitsByBytes(t *testing.T) {
	var mu sync.Mutex
	var sizes, counts []int
	b, _ := newFake(t, func(_ int, method string, body []byte) (int, string) {
		var req struct{ Mutations []json.RawMessage }
		json.Unmarshal(body, &req)
		mu.Lock()
		sizes = append(sizes, len(body))
		counts = append(counts, len(req.Mutations))
		mu.Unlock()
		return 200, `{}`
	})
	big := strings.Repeat("z", 40000)
	ents := make([]backend.Entity, backend.MaxEntityBatch)
	for i := range ents {
		ents[i] = backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Big", Name: fmt.Sprint(i)}}},
			Properties: map[string]backend.Value{"t": {Type: backend.StringType, String: big, ExcludeFromIndexes: true}}}
	}
	if _, err := b.PutEntities(t.Context(), "p", ents); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := range sizes {
		if sizes[i] > maxCommitBytes || counts[i] > backend.MaxEntityBatch {
			t.Errorf("commit %d: %d bytes, %d mutations; over the limits", i, sizes[i], counts[i])
		}
		total += counts[i]
	}
	if total != len(ents) || len(sizes) < 2 {
		t.Fatalf("%d commits holding %d mutations, want ≥2 commits holding %d", len(sizes), total, len(ents))
	}
	if _, err := b.PutEntities(t.Context(), "p", make([]backend.Entity, backend.MaxEntityBatch+1)); err == nil {
		t.Fatal("a batch of 501 was accepted")
	}
}

func TestDuplicateKeysLastWins(t *testing.T) {
	b, rec := newFake(t, func(int, string, []byte) (int, string) { return 200, `{}` })
	a1, a2 := named("K", "a"), named("K", "a")
	a2.Properties["v"] = backend.Value{Type: backend.StringType, String: "second"}
	keys, err := b.PutEntities(t.Context(), "p", []backend.Entity{a1, named("K", "b"), a2})
	if err != nil || len(keys) != 3 {
		t.Fatalf("PutEntities = %v, %v", keys, err)
	}
	body := string(rec.calls[0].body)
	if strings.Count(body, `"upsert"`) != 2 || !strings.Contains(body, "second") {
		t.Fatalf("commit = %s, want 2 upserts with the later value", body)
	}
}

func TestQueryStopsOnlyWhenFinished(t *testing.T) {
	entity := func(id int) string {
		return fmt.Sprintf(`{"entity":{"key":{"partitionId":{"projectId":"p"},"path":[{"kind":"K","id":"%d"}]}},"cursor":"c%d"}`, id, id)
	}
	b, rec := newFake(t, func(n int, _ string, body []byte) (int, string) {
		var req runQueryRequest
		json.Unmarshal(body, &req)
		switch req.Query.StartCursor {
		case "":
			// A short batch that is not the end.
			return 200, `{"batch":{"entityResults":[` + entity(1) + `],"endCursor":"c1","moreResults":"NOT_FINISHED"}}`
		case "c1":
			return 200, `{"batch":{"entityResults":[` + entity(2) + `,` + entity(3) + `],"endCursor":"c3","moreResults":"NOT_FINISHED"}}`
		case "c2":
			return 200, `{"batch":{"entityResults":[` + entity(3) + `],"endCursor":"c3","moreResults":"MORE_RESULTS_AFTER_LIMIT"}}`
		}
		return 200, `{"batch":{"moreResults":"NOT_FINISHED"}}`
	})
	ents, next, err := b.QueryEntities(t.Context(), "p", backend.EntityQuery{Kind: "K"}, "", 2)
	if err != nil || len(ents) != 2 || next != "c2" || ents[1].Key.Path[0].ID != 2 {
		t.Fatalf("page 1 = %d entities, next %q, %v; want 2, c2", len(ents), next, err)
	}
	ents, next, err = b.QueryEntities(t.Context(), "p", backend.EntityQuery{Kind: "K"}, next, 2)
	if err != nil || len(ents) != 1 || next != "" {
		t.Fatalf("page 2 = %d entities, next %q, %v; want 1, \"\"", len(ents), next, err)
	}
	if _, _, err := b.QueryEntities(t.Context(), "p", backend.EntityQuery{Kind: "K"}, "c3", 2); err == nil || !strings.Contains(err.Error(), "without a cursor") {
		t.Fatalf("NOT_FINISHED without endCursor: %v, want an error", err)
	}
	if got := len(rec.methods()); got != 4 {
		t.Errorf("%d runQuery calls, want 4", got)
	}
}

func TestKindsSkipsDatastoreOwnKinds(t *testing.T) {
	kind := func(name string) string {
		return fmt.Sprintf(`{"entity":{"key":{"partitionId":{"projectId":"p"},"path":[{"kind":"__kind__","name":%q}]}}}`, name)
	}
	b, rec := newFake(t, func(_ int, _ string, body []byte) (int, string) {
		var req runQueryRequest
		json.Unmarshal(body, &req)
		if req.Query.Kind[0].Name != "__kind__" || req.PartitionID.NamespaceID != "ns" {
			return 400, `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"unexpected query"}}`
		}
		if req.Query.StartCursor == "" {
			return 200, `{"batch":{"entityResults":[` + kind("Zebra") + `,` + kind("__Stat_Kind__") + `],"endCursor":"k1","moreResults":"NOT_FINISHED"}}`
		}
		return 200, `{"batch":{"entityResults":[` + kind("Apple") + `],"endCursor":"k2","moreResults":"NO_MORE_RESULTS"}}`
	})
	kinds, err := b.Kinds(t.Context(), "p", "ns")
	if err != nil || fmt.Sprint(kinds) != "[Apple Zebra]" {
		t.Fatalf("Kinds = %v, %v; want [Apple Zebra]", kinds, err)
	}
	if n := len(rec.methods()); n != 2 {
		t.Errorf("%d runQuery calls, want 2", n)
	}
}
