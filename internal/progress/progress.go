package progress

import (
	"io"
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
