package appengine

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/appconfig/appconfigtest"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appmodel"
)

// deployV1 puts one file and returns the spec of version id of service
// default, runtime python312.
func deploySpec(t *testing.T, b *Backend, id string) backend.VersionSpec {
	t.Helper()
	data := []byte("print(1)\n")
	d := putBytes(t, b, data)
	return backend.VersionSpec{App: "p", Service: "default", Version: id, Runtime: "python312",
		Model: &appmodel.App{Runtime: "python312"}, Files: []backend.FileRef{{Path: "main.py", SHA1: d, Size: int64(len(data))}}}
}

// TestPermissionDeniedNamesPermission: a 403 from the Admin API names the
// missing permission from the answer's ErrorInfo (or its message), says
// what to grant, and is of the class ErrDenied.
func TestPermissionDeniedNamesPermission(t *testing.T) {
	b, f := newTestBackend(t)
	spec := deploySpec(t, b, "v1")
	f.failNextWith("POST", `/versions$`, fakeFailure{status: 403, canonical: "PERMISSION_DENIED",
		message: "The caller does not have permission",
		details: []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
			"domain": "iam.googleapis.com", "metadata": map[string]any{"permission": "iam.serviceAccounts.actAs",
				"resource": "projects/-/serviceAccounts/p@appspot.gserviceaccount.com"}}}})
	_, err := b.CreateVersion(t.Context(), spec)
	if !errors.Is(err, backend.ErrDenied) {
		t.Fatalf("CreateVersion on a 403 = %v, want an error of class ErrDenied", err)
	}
	for _, want := range []string{"iam.serviceAccounts.actAs", "p@appspot.gserviceaccount.com", "Service Account User"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
	// Without details, the permission is read from IAM's message.
	f.failNextWith("POST", `/versions$`, fakeFailure{status: 403, canonical: "PERMISSION_DENIED",
		message: "Permission 'iam.serviceaccounts.actAs' denied on service account p@appspot.gserviceaccount.com (or it may not exist)."})
	_, err = b.CreateVersion(t.Context(), spec)
	if !errors.Is(err, backend.ErrDenied) || !strings.Contains(err.Error(), "the account lacks the permission iam.serviceaccounts.actAs on p@appspot.gserviceaccount.com") {
		t.Fatalf("CreateVersion on a 403 without details = %v", err)
	}
}

// TestFailureClasses: answers map to the classes the exit status follows.
func TestFailureClasses(t *testing.T) {
	for _, c := range []struct {
		code        int
		status, msg string
		want        error
	}{
		{401, "UNAUTHENTICATED", "bad token", backend.ErrDenied},
		{403, "PERMISSION_DENIED", "no", backend.ErrDenied},
		{409, "ABORTED", "in progress", backend.ErrConflict},
		{400, "FAILED_PRECONDITION", "Your app may not have more than 210 versions. Please delete one of the existing versions before trying to create a new version.", backend.ErrLimit},
		{503, "UNAVAILABLE", "later", backend.ErrTransient},
	} {
		err := error(&APIError{Code: c.code, Status: c.status, Message: c.msg})
		if !errors.Is(err, c.want) {
			t.Errorf("%d %s is not of class %v", c.code, c.status, c.want)
		}
	}
	if err := error(&APIError{Code: 409, Status: "ALREADY_EXISTS"}); errors.Is(err, backend.ErrConflict) {
		t.Error("409 ALREADY_EXISTS counts as a conflict")
	}
	if err := error(&OperationError{Code: 7}); !errors.Is(err, backend.ErrDenied) {
		t.Error("an operation ending PERMISSION_DENIED is not of class ErrDenied")
	}
}

// TestOperationInProgressFrees: a service another operation holds is
// waited for with backoff, each wait naming the holder, and the create
// goes through once it frees (after two refusals).
func TestOperationInProgressFrees(t *testing.T) {
	_, f := newTestBackend(t)
	var mu sync.Mutex
	var told []string
	b := newBackendOn(t, f, Options{ConflictTimeout: time.Minute, Notify: func(m string) { mu.Lock(); told = append(told, m); mu.Unlock() }})
	spec := deploySpec(t, b, "v1")
	f.holdService("p", "default", 2)
	if _, err := b.CreateVersion(t.Context(), spec); err != nil {
		t.Fatalf("CreateVersion after the service frees: %v", err)
	}
	creates := 0
	for _, c := range f.callLog() {
		if c == "POST /v1/apps/p/services/default/versions" {
			creates++
		}
	}
	if creates != 3 {
		t.Errorf("versions.create was sent %d times, want 3 (two refused, one accepted)", creates)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 2 {
		t.Fatalf("told %d waits, want 2: %q", len(told), told)
	}
	for _, want := range []string{"apps/p/operations/holder-default", "alice@example.com", "CreateVersion", "trying again"} {
		if !strings.Contains(told[0], want) {
			t.Errorf("the wait message does not name %q: %s", want, told[0])
		}
	}
}

// TestOperationInProgressNeverFrees: past the timeout the deploy stops
// with an error of class ErrConflict naming the holder.
func TestOperationInProgressNeverFrees(t *testing.T) {
	_, f := newTestBackend(t)
	b := newBackendOn(t, f, Options{ConflictTimeout: 50 * time.Millisecond})
	spec := deploySpec(t, b, "v1")
	f.holdService("p", "default", -1)
	start := time.Now()
	_, err := b.CreateVersion(t.Context(), spec)
	if !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("CreateVersion on a service held for ever = %v, want class ErrConflict", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("gave up after %s, want about the 50ms timeout", el)
	}
	for _, want := range []string{"alice@example.com", "--timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
}

// TestListRuntimes reads apps.listRuntimes' dates (google.type.Date).
func TestListRuntimes(t *testing.T) {
	b, _ := newTestBackend(t)
	rts, err := b.ListRuntimes(t.Context(), "p")
	if err != nil || len(rts) != 2 {
		t.Fatalf("ListRuntimes = %+v, %v", rts, err)
	}
	want := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	if r := rts[0]; r.Name != "python27" || !r.Deprecated.Equal(want) || r.EndOfSupport.Day() != 30 || r.Stage != "DEPRECATED" {
		t.Errorf("python27 read as %+v", r)
	}
	if r := rts[1]; !r.Deprecated.IsZero() || !r.EndOfSupport.IsZero() {
		t.Errorf("python313 has no dates, read as %+v", r)
	}
}

// TestTrafficHistoryAndSplit: the previous default comes from the
// operations' history (routing back to an old version makes the version it
// replaced the previous one, not the newest older one), and a split can be
// made by cookie.
func TestTrafficHistoryAndSplit(t *testing.T) {
	b, f := newTestBackend(t)
	ctx := t.Context()
	for _, id := range []string{"v1", "v2", "v3"} {
		if _, err := b.CreateVersion(ctx, deploySpec(t, b, id)); err != nil {
			t.Fatal(err)
		}
		if err := b.SetTraffic(ctx, "p", "default", map[string]float64{id: 1}, false); err != nil {
			t.Fatal(err)
		}
	}
	prev, err := backend.PreviousDefault(ctx, b, "p", "default")
	if err != nil || prev != "v2" {
		t.Fatalf("previous default after v1, v2, v3 = %q, %v; want v2", prev, err)
	}
	if err := b.SetTraffic(ctx, "p", "default", map[string]float64{"v1": 1}, false); err != nil {
		t.Fatal(err)
	}
	if prev, err = backend.PreviousDefault(ctx, b, "p", "default"); err != nil || prev != "v3" {
		t.Fatalf("previous default after routing back to v1 = %q, %v; want v3 (the history), not v2", prev, err)
	}
	if err := b.SetTrafficSplit(ctx, "p", "default", map[string]float64{"v1": .9, "v3": .1}, backend.SplitByCookie); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	by, split := f.apps["p"].services["default"].shardBy, f.apps["p"].services["default"].split
	f.mu.Unlock()
	if by != "COOKIE" || split["v1"] != .9 || split["v3"] != .1 {
		t.Errorf("the service's split is %v by %s, want v1 .9, v3 .1 by COOKIE", split, by)
	}
}

// TestSameVersion: a version holding the spec's files and configuration
// is the same; another file, digest or setting is not; a missing one is not.
func TestSameVersion(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := t.Context()
	spec := deploySpec(t, b, "v1")
	if same, err := b.SameVersion(ctx, spec); same || err != nil {
		t.Fatalf("SameVersion before the version exists = %v, %v", same, err)
	}
	if _, err := b.CreateVersion(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if same, err := b.SameVersion(ctx, spec); !same || err != nil {
		t.Fatalf("SameVersion of the version just created = %v, %v; want true", same, err)
	}
	other := spec
	other.Model = appconfigtest.Model(t, "app.yaml", "runtime: python312\nenv_variables:\n  A: b\n")
	if same, _ := b.SameVersion(ctx, other); same {
		t.Error("another configuration is the same")
	}
	other = spec
	other.Files = append([]backend.FileRef{{Path: "x.py", SHA1: spec.Files[0].SHA1, Size: spec.Files[0].Size}}, spec.Files...)
	if same, _ := b.SameVersion(ctx, other); same {
		t.Error("another manifest is the same")
	}
}
