//go:build unix

package appengine

import (
	"testing"

	"github.com/appcfg/appcfg/internal/dsemulator"
)

// datastoreEmulator starts the real Datastore emulator (google-apis.md
// §7.2) for the entity tests and returns its base URL, or "" and why not
// when the emulator or Java is missing. The emulator has no index admin
// API, so the fake keeps serving that part. It stops at the end of t.
func datastoreEmulator(t *testing.T) (string, string) {
	t.Helper()
	if testing.Short() {
		return "", "the Datastore emulator takes seconds to start; skipped with -short"
	}
	e, skip, err := dsemulator.Start()
	switch {
	case skip != "":
		return "", "entity tests need the Datastore emulator: " + skip
	case err != nil:
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return "http://" + e.Host, ""
}
