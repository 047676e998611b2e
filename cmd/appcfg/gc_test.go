package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// paceGC sets the pace and the limit, puts them back, and leaves them
// alone when the user set GOGC or GOMEMLIMIT.
func TestPaceGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(limit)
	defer debug.SetGCPercent(percent)

	restore := paceGC(400, 256<<20)
	if p, l := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); p != 400 || l != 256<<20 {
		t.Errorf("paced at GOGC %d, limit %d; want 400 and %d", p, l, 256<<20)
	}
	debug.SetGCPercent(400)
	restore()
	if p, l := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); p != 100 || l != math.MaxInt64 {
		t.Errorf("after restore: GOGC %d, limit %d; want 100 and no limit", p, l)
	}
	debug.SetGCPercent(100)

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "200")
			paceGC(400, 256<<20)()
			if p := debug.SetGCPercent(100); p != 100 {
				t.Errorf("with %s set, GOGC became %d", env, p)
			}
		})
	}
}
