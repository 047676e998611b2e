package main

import (
	"strings"
	"testing"
)

// TestUpdatePrefetchesListing: update lets the appengine backend list the
// code bucket in the background (the Prefetcher capability upload.Deploy
// calls), although a deploy this small would only probe each object; a
// command that deploys nothing lists nothing.
func TestUpdatePrefetchesListing(t *testing.T) {
	f := newFakeGoogle(t)
	f.env(t)
	dir := writeTargetApp(t, "")
	listings := func() int {
		n := 0
		for _, c := range f.callLog() {
			if c == "GET /storage/v1/b/staging.p.appspot.com/o" {
				n++
			}
		}
		return n
	}
	if code, _, stderr := runCLI(t, "list_versions", dir, "--backend", "appengine://p"); code != exitOK {
		t.Fatalf("list_versions: exit %d\n%s", code, stderr)
	}
	if n := listings(); n != 0 {
		t.Errorf("list_versions listed the code bucket %d times, want 0", n)
	}
	if code, _, stderr := runCLI(t, "update", dir, "--backend", "appengine://p", "-V", "v1"); code != exitOK {
		t.Fatalf("update: exit %d\n%s", code, stderr)
	}
	if n := listings(); n == 0 {
		t.Errorf("update did not list the code bucket in the background; calls:\n%s", strings.Join(f.callLog(), "\n"))
	}
}
