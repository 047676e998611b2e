package upload

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/progress"
)

// frozenLocker is a Backend whose lock renewals wait while the deploy is
// "stopped", as every goroutine of a process waits under SIGSTOP.
type frozenLocker struct {
	host
	backend.Locker
	mu     sync.Mutex
	frozen bool
	thawed chan struct{}
}

func (f *frozenLocker) RenewLock(ctx context.Context, key backend.LockKey, token string, lease time.Duration) error {
	f.mu.Lock()
	frozen, thawed := f.frozen, f.thawed
	f.mu.Unlock()
	if frozen {
		<-thawed
	}
	return f.Locker.RenewLock(ctx, key, token, lease)
}

// stopOnUpload stops the process (renewals included) when the upload
// starts, lets another deploy take the expired lock, then resumes.
type stopOnUpload struct {
	progress.Reporter
	t      *testing.T
	f      *frozenLocker
	lease  time.Duration
	thief  backend.Owner
	stolen bool
}

func (s *stopOnUpload) Phase(name string, files, bytes int64) {
	if name != "uploading" || s.stolen {
		return
	}
	s.stolen = true
	s.f.mu.Lock()
	s.f.frozen, s.f.thawed = true, make(chan struct{})
	s.f.mu.Unlock()
	time.Sleep(s.lease + s.lease/2)
	key := backend.LockKey{App: "app", Service: "default", Version: "v1"}
	if _, err := s.f.Locker.AcquireLock(context.Background(), key, s.thief, time.Hour); err != nil {
		s.t.Errorf("the other deploy could not take the expired lock: %v", err)
	}
	s.f.mu.Lock()
	s.f.frozen = false
	close(s.f.thawed)
	s.f.mu.Unlock()
}

// A deploy stopped past its lease, whose lock another deploy took over,
// says so, names the new holder, and creates nothing: it does not report
// "interrupted, run it again".
func TestLockTakenOverWhileStopped(t *testing.T) {
	b := openLocal(t)
	dir, files := writeApp(t, 5)
	f := &frozenLocker{host: b, Locker: b.(backend.Locker)}
	opts := baseOptions(dir, files)
	opts.Lease = 300 * time.Millisecond
	thief := backend.Owner{User: "bob", Host: "beta", PID: 4242}
	rep := &stopOnUpload{Reporter: progress.Or(nil), t: t, f: f, lease: opts.Lease, thief: thief}
	_, err := Deploy(context.Background(), f, opts, rep)
	if !rep.stolen {
		t.Fatal("the deploy never reached the upload")
	}
	if !errors.Is(err, backend.ErrLockLost) || errors.Is(err, context.Canceled) {
		t.Fatalf("deploy whose lock was taken over returned %v, want a lost lock, not a cancellation", err)
	}
	for _, want := range []string{"passed to bob@beta (pid 4242)", "Nothing of this run is live"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := b.(backend.Versions).Version(context.Background(), "app", "default", "v1"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("the stopped deploy created its version anyway: %v", err)
	}
	// The new holder keeps its lock.
	key := backend.LockKey{App: "app", Service: "default", Version: "v1"}
	if o, err := f.Locker.BreakLock(context.Background(), key); err != nil || o == nil || o.User != "bob" {
		t.Fatalf("after the stopped deploy ended, the lock is %+v (%v), want bob's", o, err)
	}
}
