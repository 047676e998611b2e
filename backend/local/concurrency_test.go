package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

const (
	helperDirEnv = "APPCFG_LOCAL_TEST_HELPER_DIR"
	helperWhoEnv = "APPCFG_LOCAL_TEST_HELPER_WHO"
	// rounds is how many locked increments each worker makes.
	rounds = 15
	// sharedBlobs is how many blobs every worker uploads, the same ones.
	sharedBlobs = 20
)

var counterKey = backend.LockKey{App: "race", Service: "default", Version: "counter"}

// runHelper is the second process of TestTwoProcesses.
func runHelper(dir, who string) int {
	ctx := context.Background()
	b, err := Open(ctx, "", Config{Root: dir}, backend.Env{User: who})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer b.Close()
	if err := work(ctx, b, who); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// work is what each concurrent deployer does: upload the same blobs, create
// its own versions of them, and increment a counter kept in the cron config
// while holding a lock. Lost updates or a broken lock show in the count.
func work(ctx context.Context, b *Backend, who string) error {
	var files []backend.FileRef
	for i := range sharedBlobs {
		data := []byte(fmt.Sprintf("shared blob %d\n", i))
		d := sha1hex(data)
		if err := b.PutBlob(ctx, "race", d, int64(len(data)), bytes.NewReader(data)); err != nil {
			return err
		}
		files = append(files, backend.FileRef{Path: fmt.Sprintf("f%d", i), SHA1: d, Size: int64(len(data))})
	}
	if err := b.SyncBlobs(ctx); err != nil {
		return err
	}
	for r := range rounds {
		if _, err := b.CreateVersion(ctx, backend.VersionSpec{App: "race", Service: "default",
			Version: fmt.Sprintf("%s-%d", who, r), Runtime: "python39", Files: files}); err != nil {
			return err
		}
		if err := lockedIncrement(ctx, b, who); err != nil {
			return err
		}
	}
	return nil
}

func lockedIncrement(ctx context.Context, b *Backend, who string) error {
	owner := backend.Owner{User: who, Host: "test", PID: os.Getpid()}
	var token string
	var err error
	// The other worker holds the lock for three short transactions; the
	// bound only stops a broken lock from hanging the test.
	for try := 0; try < 20000; try++ {
		token, err = b.AcquireLock(ctx, counterKey, owner, time.Minute)
		if !errors.Is(err, backend.ErrLocked) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		return err
	}
	n := 0
	doc, err := b.Config(ctx, "race", backend.ConfigCron)
	switch {
	case errors.Is(err, backend.ErrNotFound):
	case err != nil:
		return err
	default:
		if n, err = strconv.Atoi(string(doc)); err != nil {
			return err
		}
	}
	if err := b.PutConfig(ctx, "race", backend.ConfigCron, []byte(strconv.Itoa(n+1))); err != nil {
		return err
	}
	return b.ReleaseLock(ctx, counterKey, token)
}

// checkRace verifies the store after workers ran.
func checkRace(t *testing.T, b *Backend, workers int) {
	t.Helper()
	doc, err := b.Config(t.Context(), "race", backend.ConfigCron)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(workers * rounds); string(doc) != want {
		t.Fatalf("counter = %s after %d locked increments: the lock let updates interleave", doc, workers*rounds)
	}
	vs, err := b.ListVersions(t.Context(), "race", "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != workers*rounds {
		t.Fatalf("%d versions, want %d", len(vs), workers*rounds)
	}
	for _, v := range vs {
		spec, err := b.Manifest(t.Context(), "race", "default", v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(spec.Files) != sharedBlobs {
			t.Fatalf("version %s has %d files, want %d", v.ID, len(spec.Files), sharedBlobs)
		}
	}
	if o, err := b.BreakLock(t.Context(), counterKey); err != nil || o != nil {
		t.Fatalf("a lock was left behind: %+v, %v", o, err)
	}
}

// Two Backends on one directory in one process, as two goroutines of one
// appcfg would never do but two processes would.
func TestTwoBackendsOneDir(t *testing.T) {
	dir := t.TempDir()
	bs := []*Backend{openAt(t, dir), openAt(t, dir)}
	errs := make([]error, len(bs))
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = work(t.Context(), b, fmt.Sprintf("g%d", i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkRace(t, bs[0], len(bs))
}

// TestTwoProcesses runs work in this process and in a second one at once,
// on a store this process created first.
func TestTwoProcesses(t *testing.T) { runTwoProcesses(t, true) }

// TestTwoProcessesCreate has two processes create a new store at once: the
// schema must be created exactly once.
func TestTwoProcessesCreate(t *testing.T) { runTwoProcesses(t, false) }

// runTwoProcesses re-runs the test binary as a second worker beside this
// one. openFirst opens the store before the child starts.
func runTwoProcesses(t *testing.T, openFirst bool) {
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary to run a second process: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperWhoEnv+"=child")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var b *Backend
	if openFirst {
		b = openAt(t, dir)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !openFirst {
		b = openAt(t, dir)
	}
	workErr := work(t.Context(), b, "parent")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second process: %v\n%s", err, out.Bytes())
	}
	if workErr != nil {
		t.Fatal(workErr)
	}
	checkRace(t, b, 2)
}
