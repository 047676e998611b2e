package backendtest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) lockTests() []subtest {
	return []subtest{
		{"AcquireThenLocked", s.testAcquireThenLocked},
		{"Renew", s.testRenew},
		{"ReleaseIdempotent", s.testReleaseIdempotent},
		{"ExpiryFrees", s.testExpiryFrees},
		{"BreakReturnsOwner", s.testBreakReturnsOwner},
		{"ConcurrentAcquire", s.testConcurrentAcquire},
	}
}

const lease = time.Hour

var (
	alice = backend.Owner{User: "alice", Host: "alpha", PID: 101}
	bob   = backend.Owner{User: "bob", Host: "beta", PID: 202}
)

func lockKey(app string) backend.LockKey {
	return backend.LockKey{App: app, Service: "default", Version: "v1"}
}

// wantLocked fails unless err is a *LockedError naming holder.
func wantLocked(t *testing.T, err error, holder backend.Owner) {
	t.Helper()
	var le *backend.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("AcquireLock of a held lock: got %v, want a *LockedError", err)
	}
	if !errors.Is(err, backend.ErrLocked) {
		t.Errorf("a *LockedError does not wrap ErrLocked")
	}
	o := le.Owner
	if o.User != holder.User || o.Host != holder.Host || o.PID != holder.PID {
		t.Errorf("LockedError names %s@%s pid %d, want %s@%s pid %d", o.User, o.Host, o.PID, holder.User, holder.Host, holder.PID)
	}
	if !o.Expires.After(o.Acquired) {
		t.Errorf("LockedError owner acquired %v expires %v: want expiry after acquisition", o.Acquired, o.Expires)
	}
}

// locker opens the backend as a Locker (or skips) and returns a key of a new
// app.
func (s suite) locker(t *testing.T) (backend.Locker, backend.LockKey) {
	t.Helper()
	lk := capability[backend.Locker](t, s.open(t), "deploy locks")
	return lk, lockKey(newApp(t))
}

// lockedByAlice returns a locker and a key alice holds, with her token.
func (s suite) lockedByAlice(t *testing.T) (backend.Locker, backend.LockKey, string) {
	t.Helper()
	lk, key := s.locker(t)
	tok, err := lk.AcquireLock(t.Context(), key, alice, lease)
	must(t, "AcquireLock", err)
	return lk, key, tok
}

func (s suite) testAcquireThenLocked(t *testing.T) {
	lk, key, tok := s.lockedByAlice(t)
	if tok == "" {
		t.Fatal("AcquireLock returned an empty token")
	}
	_, err := lk.AcquireLock(t.Context(), key, bob, lease)
	wantLocked(t, err, alice)
	// Another version is another lock.
	other := key
	other.Version = "v2"
	_, err = lk.AcquireLock(t.Context(), other, bob, lease)
	must(t, "AcquireLock of another version", err)
}

func (s suite) testRenew(t *testing.T) {
	lk, key, tok := s.lockedByAlice(t)
	for range 2 {
		must(t, "RenewLock", lk.RenewLock(t.Context(), key, tok, lease))
	}
	err := lk.RenewLock(t.Context(), key, tok+"x", lease)
	wantErr(t, "RenewLock with a token that does not hold the lock", err, backend.ErrLockLost)
	_, err = lk.AcquireLock(t.Context(), key, bob, lease)
	wantLocked(t, err, alice)
}

func (s suite) testReleaseIdempotent(t *testing.T) {
	lk, key, tok := s.lockedByAlice(t)
	must(t, "ReleaseLock with a stranger's token", lk.ReleaseLock(t.Context(), key, tok+"x"))
	_, err := lk.AcquireLock(t.Context(), key, bob, lease)
	wantLocked(t, err, alice) // a stranger's release frees nothing
	must(t, "ReleaseLock", lk.ReleaseLock(t.Context(), key, tok))
	must(t, "ReleaseLock again", lk.ReleaseLock(t.Context(), key, tok))
	tok2, err := lk.AcquireLock(t.Context(), key, bob, lease)
	must(t, "AcquireLock after release", err)
	must(t, "ReleaseLock of a past holding", lk.ReleaseLock(t.Context(), key, tok))
	_, err = lk.AcquireLock(t.Context(), key, alice, lease)
	wantLocked(t, err, bob) // alice's old token did not free bob's lock
	must(t, "ReleaseLock", lk.ReleaseLock(t.Context(), key, tok2))
}

func (s suite) testExpiryFrees(t *testing.T) {
	lk, key := s.locker(t)
	tok, err := lk.AcquireLock(t.Context(), key, alice, time.Nanosecond)
	must(t, "AcquireLock", err)
	// The lease ended a nanosecond after it began; the host's clock may be
	// coarse, so allow it a few ticks.
	var tok2 string
	for try := 0; ; try++ {
		tok2, err = lk.AcquireLock(t.Context(), key, bob, lease)
		if err == nil || try == 100 || !errors.Is(err, backend.ErrLocked) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	must(t, "AcquireLock of an expired lock", err)
	err = lk.RenewLock(t.Context(), key, tok, lease)
	wantErr(t, "RenewLock of a lock taken after it expired", err, backend.ErrLockLost)
	// A host that names the new holder names the right one.
	var lost *backend.LockLostError
	if errors.As(err, &lost) && lost.Owner != nil && lost.Owner.User != bob.User {
		t.Errorf("RenewLock of a lock bob took names %s@%s as its holder", lost.Owner.User, lost.Owner.Host)
	}
	must(t, "RenewLock by the new holder", lk.RenewLock(t.Context(), key, tok2, lease))
}

func (s suite) testBreakReturnsOwner(t *testing.T) {
	lk, key := s.locker(t)
	o, err := lk.BreakLock(t.Context(), key)
	must(t, "BreakLock of a free lock", err)
	if o != nil {
		t.Fatalf("BreakLock of a free lock returned owner %+v, want nil", *o)
	}
	tok, err := lk.AcquireLock(t.Context(), key, alice, lease)
	must(t, "AcquireLock", err)
	o, err = lk.BreakLock(t.Context(), key)
	must(t, "BreakLock", err)
	if o == nil || o.User != alice.User || o.Host != alice.Host || o.PID != alice.PID {
		t.Fatalf("BreakLock returned %+v, want alice's record", o)
	}
	err = lk.RenewLock(t.Context(), key, tok, lease)
	wantErr(t, "RenewLock after BreakLock", err, backend.ErrLockLost)
	_, err = lk.AcquireLock(t.Context(), key, bob, lease)
	must(t, "AcquireLock after BreakLock", err)
}

func (s suite) testConcurrentAcquire(t *testing.T) {
	lk, key := s.locker(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := alice
			o.PID = 1000 + i
			_, errs[i] = lk.AcquireLock(t.Context(), key, o, lease)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, backend.ErrLocked):
			t.Errorf("concurrent AcquireLock: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent AcquireLock calls won, want exactly 1", won, n)
	}
}
