//go:build unix

package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The benchmarks compare runs of 50-80 ms: the wall time must resolve far
// below GNU time's 10 ms steps, and count the command's whole run.
func TestMeasureResolvesMicroseconds(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep command")
	}
	r, err := measure([]string{"sleep", "0.0234"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.wall < 23400*time.Microsecond || r.wall > 5*time.Second {
		t.Fatalf("wall %v for a sleep of 23.4 ms", r.wall)
	}
	f := strings.Fields(r.String())
	if len(f) != 4 {
		t.Fatalf("line %q: want 4 fields", r.String())
	}
	for _, s := range f[:3] {
		if i := strings.IndexByte(s, '.'); i < 0 || len(s)-i-1 != 6 {
			t.Errorf("%q is not given to the microsecond", s)
		}
	}
	wall, err := strconv.ParseFloat(f[0], 64)
	if err != nil || math.Abs(wall-r.wall.Seconds()) > 1e-6 {
		t.Errorf("printed wall %q, measured %v", f[0], r.wall)
	}
	if r.maxRSSKiB <= 0 {
		t.Errorf("peak RSS %d KiB", r.maxRSSKiB)
	}
}

func TestMeasureRedirectsStdoutAndReportsFailure(t *testing.T) {
	for _, tool := range []string{"echo", "false"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s command", tool)
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := measure([]string{"echo", "hi"}, out); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "hi\n" {
		t.Fatalf("stdout file holds %q (%v), want %q", b, err, "hi\n")
	}
	if _, err := measure([]string{"false"}, ""); err == nil {
		t.Fatal("a failing command was measured as a success")
	}
}
