package upload

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/runtimes"
)

// retiring is a local backend that retires runtimes as App Engine does,
// answering ListRuntimes with list (or err), and counts the blobs sent.
type retiring struct {
	backend.Backend
	backend.Deployer
	backend.BlobSyncer
	backend.Versions
	list []backend.RuntimeInfo
	err  error
	puts atomic.Int32
}

func (r *retiring) ListRuntimes(ctx context.Context, app string) ([]backend.RuntimeInfo, error) {
	return r.list, r.err
}

func (r *retiring) PutBlob(ctx context.Context, app, digest string, size int64, rd io.Reader) error {
	r.puts.Add(1)
	return r.Deployer.PutBlob(ctx, app, digest, size, rd)
}

func date(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// TestRuntimeLifecycle: on a host that retires runtimes, a runtime past
// its deprecation date stops the deploy before any byte is sent, naming the
// dates and the successor; past end of support it is a warning; the host's
// dates win over the table, which applies when the host cannot say; and
// AllowDeprecatedRuntime skips the check.
func TestRuntimeLifecycle(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return date("2026-12-03") }
	dir, files := writeApp(t, 3)

	lb := openLocal(t)
	b := &retiring{Backend: lb, Deployer: lb.(backend.Deployer), BlobSyncer: lb.(backend.BlobSyncer), Versions: lb.(backend.Versions), list: []backend.RuntimeInfo{
		{Name: "python27", EndOfSupport: date("2024-01-30"), Deprecated: date("2026-01-31")},
		{Name: "nodejs20", EndOfSupport: date("2026-04-30"), Deprecated: date("2027-04-30")},
		{Name: "python312"},
	}}
	opts := baseOptions(dir, files)
	opts.Now = now
	_, err := Deploy(ctx, b, opts, nil)
	var de *runtimes.DeprecatedError
	if !errors.As(err, &de) {
		t.Fatalf("deploying python27 past its deprecation = %v, want a refusal", err)
	}
	for _, want := range []string{"2024-01-30", "2026-01-31", "python314"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not name %s: %v", want, err)
		}
	}
	if n := b.puts.Load(); n != 0 {
		t.Errorf("%d blobs were sent before the refusal", n)
	}

	opts.Runtime = "nodejs20"
	res, err := Deploy(ctx, b, opts, nil)
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "end of support on 2026-04-30") {
		t.Fatalf("deploying nodejs20 past end of support: %v, warnings %q; want a warning", err, res.Warnings)
	}

	// The host's word wins over the table: here python27 is not retired.
	b.list = []backend.RuntimeInfo{{Name: "python27", Stage: "GA"}}
	opts.Runtime, opts.Version = "python27", "v2"
	if _, err := Deploy(ctx, b, opts, nil); err != nil {
		t.Fatalf("the host lists python27 without dates, yet: %v", err)
	}

	// A host that cannot say: the table decides, with a warning.
	b.list, b.err = nil, errors.New("listRuntimes: 404")
	opts.Version = "v3"
	if _, err := Deploy(ctx, b, opts, nil); !errors.As(err, &de) {
		t.Fatalf("offline, python27 = %v; want the table's refusal", err)
	}
	opts.AllowDeprecatedRuntime = true
	if _, err := Deploy(ctx, b, opts, nil); err != nil {
		t.Fatalf("with AllowDeprecatedRuntime: %v", err)
	}

	// The local host runs every runtime: it is never asked.
	opts.AllowDeprecatedRuntime, opts.Version = false, "v4"
	if _, err := Deploy(ctx, openLocal(t), opts, nil); err != nil {
		t.Fatalf("python27 on the local host: %v", err)
	}
}
