package instance

import (
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// An instance that exited on its own is reported as exited, with its
// status, even when a stop reaches it before its output is drained (its
// process gone, a child still holding its pipes): under load serve's proxy
// stops an instance that refused a connection just as it exits, and the
// crash went unreported, neither "exited" nor "stopped".
func TestStopAfterOwnExitReportsTheExit(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH: the instance of this test is a Python one-liner")
	}
	var mu sync.Mutex
	var notes []string
	m, err := NewManager(Config{CacheDir: t.TempDir(), StartTimeout: time.Minute, Notify: func(s string) {
		mu.Lock()
		notes = append(notes, s)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	// It answers the readiness probe, then exits 3; the sleep it leaves
	// behind holds its stdout for a while.
	entry := `sleep 2 & exec python3 -c 'import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"]))); s.listen(1)
c, _ = s.accept(); c.close(); sys.exit(3)'`
	key := Key{Service: "default", Version: "v1"}
	inst, err := m.Get(t.Context(), Spec{Project: "p", Key: key, Runtime: "python312", Dir: t.TempDir(), Entrypoint: entry})
	if err != nil {
		t.Fatal(err)
	}
	if !inst.WaitExit(30 * time.Second) {
		t.Fatal("the instance did not exit")
	}
	m.Stop(key, "it no longer accepts connections")
	// Marked stopping, its watcher stays silent whenever the stop comes
	// before the output is drained (a child holding the pipes, a loaded
	// machine): that is the race, so it is checked whatever the timing.
	if inst.stopping.Load() {
		t.Error("a stop after the instance exited on its own marked it stopping: its crash goes unreported")
	}
	select {
	case <-inst.p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the instance's output was not drained")
	}
	time.Sleep(100 * time.Millisecond) // the watcher reports after done
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(notes, "\n")
	if !strings.Contains(all, "exited (exit status 3)") {
		t.Errorf("no exit reported; the manager said:\n%s", all)
	}
}
