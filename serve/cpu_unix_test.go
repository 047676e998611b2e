//go:build unix

package serve_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuPerOp reports the CPU time this process (client and serve, not the
// instance) spent per request: on a loaded machine wall times wander, CPU
// times much less. Call the function it returns when the loop ends.
func cpuPerOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64((cpu()-start).Microseconds())/float64(b.N), "cpu-us/op")
	}
}
