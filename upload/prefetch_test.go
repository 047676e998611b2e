package upload

import (
	"context"
	"sync/atomic"
	"testing"
)

// prefetcher is a host with the Prefetcher capability that counts the
// calls and notes whether each came before the deploy asked what it lacks.
type prefetcher struct {
	host
	calls, early atomic.Int64
	asked        atomic.Bool
	apps         []string
}

func (p *prefetcher) Prefetch(_ context.Context, app string) {
	p.calls.Add(1)
	if !p.asked.Load() {
		p.early.Add(1)
	}
	p.apps = append(p.apps, app)
}

func (p *prefetcher) MissingBlobs(ctx context.Context, app string, digests []string) ([]string, error) {
	p.asked.Store(true)
	return p.host.MissingBlobs(ctx, app, digests)
}

// TestDeployPrefetches: a deploy (and a dry run, which also asks what the
// host lacks) calls the host's Prefetch once, for its app, before it asks
// what the host lacks; a host without the capability deploys as before.
func TestDeployPrefetches(t *testing.T) {
	dir, files := writeApp(t, 5)
	for _, dry := range []bool{false, true} {
		h := &prefetcher{host: openLocal(t)}
		opts := baseOptions(dir, files)
		opts.DryRun = dry
		opts.NoPromote = true // the wrapper hides the Versions capability
		if _, err := Deploy(t.Context(), h, opts, nil); err != nil {
			t.Fatal(err)
		}
		if h.calls.Load() != 1 || h.early.Load() != 1 || len(h.apps) != 1 || h.apps[0] != "app" {
			t.Errorf("dry run %v: %d Prefetch calls (%d before MissingBlobs) for %q, want 1 before, for app",
				dry, h.calls.Load(), h.early.Load(), h.apps)
		}
	}
	if _, err := Deploy(t.Context(), openLocal(t), baseOptions(dir, files), nil); err != nil {
		t.Fatalf("a host without Prefetch: %v", err)
	}
}
