package crash_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/appcfg/appcfg/internal/crash"
	"golang.org/x/sync/errgroup"
)

// A panic in an errgroup goroutine comes back from Wait as an *Error
// naming the panicking function and line, instead of killing the process.
func TestRecoverInGoroutine(t *testing.T) {
	var g errgroup.Group
	g.Go(func() (err error) {
		defer crash.Recover(&err)
		var m map[string]int
		m["x"] = 1 // panics
		return nil
	})
	err := g.Wait()
	var ce *crash.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Wait = %v, want a *crash.Error", err)
	}
	if !strings.Contains(ce.Value, "nil map") || !strings.Contains(ce.Site, "TestRecoverInGoroutine.func1 (crash_test.go:") {
		t.Errorf("got %q, want the panic value and the site in crash_test.go", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("%q is not one line", err)
	}
}

// A long multi-line value is flattened and cut.
func TestValueOneLine(t *testing.T) {
	var err error
	func() {
		defer crash.Recover(&err)
		panic(strings.Repeat("line\n", 100))
	}()
	if s := err.Error(); strings.Contains(s, "\n") || len(s) > 400 {
		t.Errorf("%q: want one short line", s)
	}
}

// Reraise raises in the waiting goroutine the first panic of the workers,
// keeping the worker's site.
func TestCatcherReraise(t *testing.T) {
	var c crash.Catcher
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Recover()
			if i == 1 {
				panic(fmt.Sprintf("worker %d", i))
			}
		}()
	}
	wg.Wait()
	if c.Err() == nil {
		t.Fatal("Err is nil after a worker panicked")
	}
	defer func() {
		r := recover()
		ce, ok := r.(*crash.Error)
		if !ok || ce.Value != "worker 1" || !strings.Contains(ce.Site, "TestCatcherReraise.func1") {
			t.Errorf("recovered %#v, want the worker's *crash.Error", r)
		}
		if again := crash.FromPanic(r); again != ce {
			t.Errorf("FromPanic made a new error of a raised one")
		}
	}()
	c.Reraise()
	t.Fatal("Reraise did not panic")
}

// Without a panic the Catcher raises nothing.
func TestCatcherQuiet(t *testing.T) {
	var c crash.Catcher
	func() { defer c.Recover() }()
	c.Reraise()
	if c.Err() != nil {
		t.Errorf("Err = %v, want nil", c.Err())
	}
}

// A handler's panic answers 500 and is logged in one line, no trace.
func TestHandler(t *testing.T) {
	var logged []string
	h := crash.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s []int
		_ = s[len(r.URL.Path)]
	}), func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
	if len(logged) != 1 || strings.Contains(logged[0], "\n") || strings.Contains(logged[0], "goroutine") ||
		!strings.Contains(logged[0], "index out of range") || !strings.Contains(logged[0], "GET /boom") || !strings.Contains(logged[0], "please report") {
		t.Errorf("logged %q, want one line with the panic, the request and a report request", logged)
	}
}

// http.ErrAbortHandler still aborts quietly, as net/http defines.
func TestHandlerAbort(t *testing.T) {
	h := crash.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }),
		func(string, ...any) { t.Error("an abort was logged") })
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}
