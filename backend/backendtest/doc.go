// Package backendtest is the conformance suite every appcfg backend passes:
// one set of tests, written against the contract in package backend, that
// each implementation runs from its own tests.
//
// # Overview
//
// [Run] runs a subtest per promise of the contract (blobs, versions, traffic,
// locks, configs, indexes, cancellation). A subtest for an optional capability
// the backend does not implement is skipped with a message naming the
// capability, so `go test -v` shows what a backend lacks.
//
// # Example
//
// A backend joins the suite from its _test.go file:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend {
//			b, err := mybackend.Open(t.Context(), t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { b.Close() })
//			return b
//		})
//	}
//
// open may return the same host for every subtest: each subtest uses its own
// randomly named application, so they do not see each other's data.
//
// Only _test.go files import this package.
package backendtest
