package progress

import (
	"io"
	"sync/atomic"
)

// Reporter receives progress from long-running work. Implementations must be
// safe for concurrent use: workers report from many goroutines.
type Reporter interface {
	// Phase starts a named phase ("hashing", "uploading" …) with its known
	// totals; 0 means unknown. It ends the previous phase; an empty name
	// only ends it.
	Phase(name string, files, bytes int64)
	// Add records work done in the current phase.
	Add(files, bytes int64)
	// Status reports a one-line message about what is happening now.
	Status(msg string)
	// Warn reports something the user should know that does not stop the work.
	Warn(msg string)
}

// Or returns r, or a Reporter that discards everything when r is nil.
func Or(r Reporter) Reporter {
	if r == nil {
		return Nop{}
	}
	return r
}

// Nop discards all progress.
type Nop struct{}

// Phase implements Reporter.
func (Nop) Phase(string, int64, int64) {}

// Add implements Reporter.
func (Nop) Add(int64, int64) {}

// Status implements Reporter.
func (Nop) Status(string) {}

// Warn implements Reporter.
func (Nop) Warn(string) {}

// Reader counts the bytes read through it into a Reporter, so transfer code
// reports progress just by reading.
type Reader struct {
	R   io.Reader
	Rep Reporter
}

func (r Reader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	if n > 0 {
		r.Rep.Add(0, int64(n))
	}
	return n, err
}

// Counter is a Reporter that only counts, for tests and summaries.
type Counter struct {
	Files, Bytes atomic.Int64
	phases       atomic.Int64
}

// Phase implements Reporter.
func (c *Counter) Phase(string, int64, int64) { c.phases.Add(1) }

// Add implements Reporter.
func (c *Counter) Add(files, bytes int64) {
	c.Files.Add(files)
	c.Bytes.Add(bytes)
}

// Status implements Reporter.
func (c *Counter) Status(string) {}

// Warn implements Reporter.
func (c *Counter) Warn(string) {}

// Phases is how many phases were started.
func (c *Counter) Phases() int64 { return c.phases.Load() }
