package crash

import (
	"fmt"
	"log"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Error is a panic turned into a value: what was panicked with and where.
type Error struct {
	// Value is the panic's value, flattened to one line of at most 200
	// bytes: it may quote memory, so no more of it is shown.
	Value string
	// Site is " in F (file:line)", the function and line that panicked,
	// or "" when the stack does not show it.
	Site string
}

func (e *Error) Error() string { return "internal error: " + e.Value + e.Site }

// FromPanic turns r, a value just recovered, into an *Error. Called from
// the deferred function that recovered, it names the frame that panicked.
// A value that is already an *Error (Reraise) is kept with its site.
func FromPanic(r any) *Error {
	if e, ok := r.(*Error); ok {
		return e
	}
	msg := strings.Join(strings.Fields(fmt.Sprint(r)), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return &Error{Value: msg, Site: site()}
}

// Recover, deferred directly in a goroutine's function, turns a panic into
// an *Error stored in *err, so it leaves through the goroutine's error path.
func Recover(err *error) {
	if r := recover(); r != nil {
		*err = FromPanic(r)
	}
}

// Catcher holds the first panic of goroutines that have no error path.
// The zero value is ready to use.
type Catcher struct {
	mu  sync.Mutex
	err *Error
}

// Recover, deferred directly in the goroutine's function, records a panic.
func (c *Catcher) Recover() {
	if r := recover(); r != nil {
		e := FromPanic(r)
		c.mu.Lock()
		if c.err == nil {
			c.err = e
		}
		c.mu.Unlock()
	}
}

// Err returns the recorded panic as an *Error, or nil: for a waiter that
// has an error path of its own.
func (c *Catcher) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return nil
	}
	return c.err
}

// Reraise, called once the goroutines are done, panics with the recorded
// *Error in the calling goroutine, whose own recovery then reports it.
func (c *Catcher) Reraise() {
	c.mu.Lock()
	e := c.err
	c.mu.Unlock()
	if e != nil {
		panic(e)
	}
}

// Handler answers 500 to a request whose handler panics and logs the panic
// on one line through logf (log.Printf when nil), instead of net/http's
// trace. http.ErrAbortHandler keeps its meaning: abort quietly.
func Handler(h http.Handler, logf func(format string, args ...any)) http.Handler {
	if logf == nil {
		logf = log.Printf
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			logf("appcfg: %v, serving %s %s; this is a bug in appcfg, please report it", FromPanic(v), r.Method, r.URL.Path)
			// If the handler already wrote, the status is gone; the
			// client sees a cut answer either way.
			http.Error(w, "500 internal server error", http.StatusInternalServerError)
		}()
		h.ServeHTTP(w, r)
	})
}

// site names the frame that panicked, " in F (file:line)": the first frame
// below the runtime's panic machinery that is not this package's.
func site() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	inPanic := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			inPanic = true
		case inPanic && !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, pkgPath+"."):
			return fmt.Sprintf(" in %s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

const pkgPath = "github.com/appcfg/appcfg/internal/crash"

// injected names the point Point panics at; set only by tests.
var injected atomic.Pointer[string]

// InjectForTest makes Point(name) panic, so tests of the real binary can
// check a panic's path from any goroutine. Production code never calls it.
func InjectForTest(name string) { injected.Store(&name) }

// Point panics when a test injected a panic at name (InjectForTest); it
// is one atomic load otherwise.
func Point(name string) {
	if p := injected.Load(); p != nil && *p == name {
		panic("panic injected by a test at " + name)
	}
}
