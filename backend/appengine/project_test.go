package appengine

import (
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appmodel"
)

// TestLocationProjectIsNeverContradicted: a backend opened for
// appengine://staging-proj refuses a call about another project before
// any request, so a deploy meant for staging never lands elsewhere.
func TestLocationProjectIsNeverContradicted(t *testing.T) {
	b, f := newTestBackendOf(t, "staging-proj")
	ctx := t.Context()
	spec := backend.VersionSpec{App: "a1", Service: "default", Version: "v1", Runtime: "python312", Model: &appmodel.App{Runtime: "python312"}}
	if _, err := b.CreateVersion(ctx, spec); err == nil || !strings.Contains(err.Error(), `"staging-proj"`) {
		t.Errorf("CreateVersion for app a1 on appengine://staging-proj: %v, want a refusal naming staging-proj", err)
	}
	if _, err := b.MissingBlobs(ctx, "a1", []string{"da39a3ee5e6b4b0d3255bfef95601890afd80709"}); err == nil {
		t.Error("MissingBlobs for app a1 on appengine://staging-proj succeeded")
	}
	if _, err := b.ListVersions(ctx, "a1", ""); err == nil {
		t.Error("ListVersions for app a1 on appengine://staging-proj succeeded")
	}
	for _, c := range f.callLog() {
		if strings.Contains(c, "a1") {
			t.Errorf("request %q names the other project", c)
		}
	}
	// Naming the location's project, or none, is the location's project.
	if _, err := b.ListVersions(ctx, "staging-proj", ""); err != nil {
		t.Errorf("ListVersions(staging-proj): %v", err)
	}
	if _, err := b.ListVersions(ctx, "", ""); err != nil {
		t.Errorf("ListVersions(\"\"): %v", err)
	}
}
