package backendtest

import (
	"bytes"
	"io"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) contentsTests() []subtest {
	return []subtest{
		{"ManifestAsCreated", s.testManifestAsCreated},
		{"OpenBlobReadsContent", s.testOpenBlobReadsContent},
		{"NotFound", s.testContentsNotFound},
	}
}

func (s suite) testManifestAsCreated(t *testing.T) {
	b, app := s.open(t), newApp(t)
	c := capability[backend.Contents](t, b, "contents")
	bs := newBlobs(t, 3)
	deploy(t, b, app, "default", "v1", bs)
	spec, err := c.Manifest(t.Context(), app, "default", "v1")
	must(t, "Manifest", err)
	// The host keeps the model it was given in a form it hands back: the
	// local store as YAML, which the commands parse.
	if spec.Runtime != "python39" || string(spec.Config) != "runtime: python39\n" {
		t.Fatalf("Manifest runtime %q config %q, want those of CreateVersion (the model runtime: python39)", spec.Runtime, spec.Config)
	}
	if len(spec.Files) != len(bs) {
		t.Fatalf("Manifest has %d files, want %d", len(spec.Files), len(bs))
	}
	for i, f := range spec.Files {
		if f != bs[i].ref(f.Path) || f.Path != "f"+string(rune('0'+i)) {
			t.Fatalf("Manifest file %d = %+v, want %+v (sorted by path)", i, f, bs[i].ref(f.Path))
		}
	}
}

func (s suite) testOpenBlobReadsContent(t *testing.T) {
	b, app := s.open(t), newApp(t)
	c := capability[backend.Contents](t, b, "contents")
	bl := newBlob("content to read back\n")
	putBlob(t, b, app, bl)
	r, err := c.OpenBlob(t.Context(), app, bl.digest)
	must(t, "OpenBlob", err)
	got, err := io.ReadAll(r)
	r.Close()
	must(t, "reading the blob", err)
	if !bytes.Equal(got, bl.data) {
		t.Fatalf("OpenBlob read %q, want %q", got, bl.data)
	}
}

func (s suite) testContentsNotFound(t *testing.T) {
	b, app := s.open(t), newApp(t)
	c := capability[backend.Contents](t, b, "contents")
	_, err := c.Manifest(t.Context(), app, "default", "nope")
	wantErr(t, "Manifest of a missing version", err, backend.ErrNotFound)
	_, err = c.OpenBlob(t.Context(), app, newBlob("never stored").digest)
	wantErr(t, "OpenBlob of a missing blob", err, backend.ErrNotFound)
	// A blob stored for one app is not another app's.
	bl := newBlob("stored for the first app")
	putBlob(t, b, app, bl)
	_, err = c.OpenBlob(t.Context(), newApp(t), bl.digest)
	wantErr(t, "OpenBlob of another app's blob", err, backend.ErrNotFound)
}
