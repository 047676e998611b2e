// Package crash is the one place for the rule "a panic anywhere is a bug,
// reported as one line" (issue 13): every goroutine appcfg starts defers
// one of its recovers, so a panic off the main goroutine no longer kills
// the process with a Go trace and exit status 2 (the usage status).
//
// A goroutine with an error path (an errgroup func, a result channel)
// defers Recover(&err): the panic becomes an *Error carrying the panic
// value and the site that panicked, and flows back as any error would;
// cmd/appcfg maps *Error to exit status 70. A goroutine without one
// records the panic in a Catcher, and the goroutine that waits for it
// calls Reraise, so the main path panics with the same *Error and its
// own recovery reports the original site.
//
// Handler wraps an http.Handler the same way: a panic answers 500 and is
// logged in one line instead of net/http's trace.
package crash
