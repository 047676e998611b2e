//go:build !unix

package serve_test

import "testing"

// cpuPerOp reports nothing where getrusage is missing: the benchmark's
// ns/op stands alone there.
func cpuPerOp(b *testing.B) func() {
	b.Helper()
	return func() {}
}
