package appengine

import "testing"

// TestCreateVersionURL: the version CreateVersion returns carries the
// versionUrl of the Admin API's answer: update's "url" comes from it.
func TestCreateVersionURL(t *testing.T) {
	b, _ := newTestBackend(t)
	v, err := b.CreateVersion(t.Context(), deploySpec(t, b, "v1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://v1-dot-p.uc.r.appspot.com"; v.URL != want {
		t.Errorf("URL %q, want %q (the Admin API's versionUrl)", v.URL, want)
	}
}
