//go:build !unix

package appengine

import "testing"

// datastoreEmulator is the Unix one's stand-in: internal/dsemulator runs
// the emulator's Java process only on Unix, so the Entities group skips.
func datastoreEmulator(t *testing.T) (string, string) {
	t.Helper()
	return "", "the Datastore emulator is started only on Unix"
}
