package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
)

// TestUpdateSurvivesKill kills `appcfg update` with SIGKILL at random points,
// 20 times. After each kill the next update must finish, the version's
// manifest must name every file, every blob must hash to its name, and no
// lock may be left behind.
func TestUpdateSurvivesKill(t *testing.T) {
	t.Parallel() // runs beside the other long tests: it mostly waits on its child deploys
	if testing.Short() {
		t.Skip("kills 20 deploys; skipped with -short")
	}
	tmp := t.TempDir()
	exe := appcfgExe(t)
	app := filepath.Join(tmp, "app")
	rng := rand.New(rand.NewPCG(1, 2))
	writeCrashApp(t, app, rng, 150)
	store := filepath.Join(tmp, "store")
	env := append(os.Environ(),
		"HOME="+filepath.Join(tmp, "home"),
		"XDG_CACHE_HOME="+filepath.Join(tmp, "cache"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "data"),
		"APPCFG_BACKEND=local:"+store)
	deploy := func() *exec.Cmd {
		c := exec.Command(exe, "update", app, "-A", "crash", "-V", "v1", "--quiet")
		c.Env = env
		return c
	}

	// One full deploy, timed, to know where kills can land.
	start := time.Now()
	if out, err := deploy().CombinedOutput(); err != nil {
		t.Fatalf("first deploy: %v\n%s", err, out)
	}
	full := time.Since(start)

	for i := range 20 {
		// New content each round, so every run has blobs to send.
		for range 10 {
			writeRandomFile(t, filepath.Join(app, "data", fmt.Sprintf("f%03d.bin", rng.IntN(150))), rng)
		}
		c := deploy()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(full) + 1)))
		_ = c.Process.Signal(syscall.SIGKILL)
		_ = c.Wait()

		if out, err := deploy().CombinedOutput(); err != nil {
			t.Fatalf("round %d: update after kill failed: %v\n%s", i, err, out)
		}
		checkDeployed(t, store, app)
	}
}

// appcfgExe returns the path of an appcfg binary: a link named appcfg to
// the test binary, which testscript.Main runs as appcfg when called by
// that name. Tests that need appcfg in processes of its own (to kill it,
// or to run several at once: urfave/cli's help flag is package state, so
// run is not safe for concurrent use) run it.
func appcfgExe(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "bin", "appcfg")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, exe); err != nil {
		t.Fatal(err)
	}
	return exe
}

func writeCrashApp(t *testing.T, dir string, rng *rand.Rand, n int) {
	t.Helper()
	files := map[string]string{
		"app.yaml": "runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  script: main.app\n",
		"main.py":  "app = None\n",
	}
	for name, body := range files {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		writeRandomFile(t, filepath.Join(dir, "data", fmt.Sprintf("f%03d.bin", i)), rng)
	}
}

func writeRandomFile(t *testing.T, path string, rng *rand.Rand) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1+rng.IntN(400_000))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkDeployed verifies the deployed v1 against the app directory.
func checkDeployed(t *testing.T, store, app string) {
	t.Helper()
	ctx := context.Background()
	b, err := local.NewFactory().Open(ctx, "local:"+store, store, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	contents, err := backend.As[backend.Contents](b, "contents")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := contents.Manifest(ctx, "crash", "default", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Files) != 152 {
		t.Fatalf("manifest has %d files, want 152", len(spec.Files))
	}
	for _, f := range spec.Files {
		want, err := os.ReadFile(filepath.Join(app, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(want)
		if hex.EncodeToString(sum[:]) != f.SHA1 {
			t.Fatalf("%s: manifest digest %s is not the file's", f.Path, f.SHA1)
		}
		r, err := contents.OpenBlob(ctx, "crash", f.SHA1)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		h := sha1.New()
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil || hex.EncodeToString(h.Sum(nil)) != f.SHA1 {
			t.Fatalf("%s: blob %s does not verify (%v)", f.Path, f.SHA1, err)
		}
	}
	l, err := backend.As[backend.Locker](b, "locks")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := l.BreakLock(ctx, backend.LockKey{App: "crash", Service: "default", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if owner != nil {
		t.Fatalf("a lock was left behind, held by pid %d", owner.PID)
	}
}
