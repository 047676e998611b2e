package backendtest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appmodel"
)

// Run runs the whole conformance suite against the backends open returns.
// open is called once per subtest and registers its own cleanup (closing the
// backend) with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) backend.Backend) {
	RunWith(t, open, Options{})
}

// Options give the suite what only the backend's own tests can do.
type Options struct {
	// LoseBlob damages the host behind the backend's back: it removes (or
	// truncates) the stored content of digest, as a disk error or a user
	// would. nil skips the tests that need it.
	LoseBlob func(t *testing.T, b backend.Backend, digest string)
	// Parallel runs the groups, and the cases within each, at the same
	// time. Every case already works under an application id of its own;
	// a backend whose calls wait on a server (a fake, an emulator) spends
	// most of the suite's time waiting, and this overlaps those waits.
	// open must then be safe to call from several goroutines.
	Parallel bool
}

// RunWith is Run with options.
func RunWith(t *testing.T, open func(t *testing.T) backend.Backend, opts Options) {
	s := suite{open: open, opts: opts}
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"Blobs", s.blobTests()},
		{"Versions", s.versionTests()},
		{"Locks", s.lockTests()},
		{"Configs", s.configTests()},
		{"Indexes", s.indexTests()},
		{"Contents", s.contentsTests()},
		{"Context", s.contextTests()},
		{"Entities", s.entityTests()},
		{"Logs", s.logTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			if opts.Parallel {
				t.Parallel()
			}
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) {
					if opts.Parallel {
						t.Parallel()
					}
					st.run(t)
				})
			}
		})
	}
}

type suite struct {
	open func(t *testing.T) backend.Backend
	opts Options
}

type subtest struct {
	name string
	run  func(t *testing.T)
}

// capability returns b as C or skips the test naming the capability.
func capability[C any](t *testing.T, b backend.Backend, name string) C {
	t.Helper()
	c, err := backend.As[C](b, name)
	if err != nil {
		if !errors.Is(err, backend.ErrUnsupported) {
			t.Fatalf("backend.As(%s) = %v, want an error wrapping ErrUnsupported", name, err)
		}
		t.Skipf("capability %s not implemented: %v", name, err)
	}
	return c
}

// newApp returns an application id no other test uses, so subtests sharing
// one host stay apart.
func newApp(t *testing.T) string {
	t.Helper()
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	return "bt-" + hex.EncodeToString(r[:])
}

// blob is test content with its digest.
type blob struct {
	digest string
	data   []byte
}

func newBlob(content string) blob {
	sum := sha1.Sum([]byte(content))
	return blob{digest: hex.EncodeToString(sum[:]), data: []byte(content)}
}

// newBlobs returns n distinct blobs unique to this test.
func newBlobs(t *testing.T, n int) []blob {
	t.Helper()
	salt := newApp(t)
	bs := make([]blob, n)
	for i := range bs {
		bs[i] = newBlob(fmt.Sprintf("%s content %d of %s\n", salt, i, t.Name()))
	}
	return bs
}

func (bl blob) ref(path string) backend.FileRef {
	return backend.FileRef{Path: path, SHA1: bl.digest, Size: int64(len(bl.data))}
}

func putBlob(t *testing.T, b backend.Backend, app string, bl blob) {
	t.Helper()
	d := deployer(t, b)
	if err := d.PutBlob(t.Context(), app, bl.digest, int64(len(bl.data)), bytes.NewReader(bl.data)); err != nil {
		t.Fatalf("PutBlob(%s): %v", bl.digest, err)
	}
	confirm(t, b)
}

// confirm calls SyncBlobs on a backend that batches: a blob is confirmed
// only then.
func confirm(t *testing.T, b backend.Backend) {
	t.Helper()
	if bs, ok := b.(backend.BlobSyncer); ok {
		if err := bs.SyncBlobs(t.Context()); err != nil {
			t.Fatalf("SyncBlobs: %v", err)
		}
	}
}

func digests(bs []blob) []string {
	d := make([]string, len(bs))
	for i, b := range bs {
		d[i] = b.digest
	}
	return d
}

func missing(t *testing.T, b backend.Backend, app string, ds []string) []string {
	t.Helper()
	d := deployer(t, b)
	m, err := d.MissingBlobs(t.Context(), app, ds)
	if err != nil {
		t.Fatalf("MissingBlobs: %v", err)
	}
	return m
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// deploy puts the blobs and creates a version of them as files f0, f1….
func deploy(t *testing.T, b backend.Backend, app, service, version string, bs []blob) backend.Version {
	t.Helper()
	d := deployer(t, b)
	spec := backend.VersionSpec{App: app, Service: service, Version: version, Runtime: "python39",
		Model: &appmodel.App{Runtime: "python39"}}
	for i, bl := range bs {
		putBlob(t, b, app, bl)
		spec.Files = append(spec.Files, bl.ref(fmt.Sprintf("f%d", i)))
	}
	v, err := d.CreateVersion(t.Context(), spec)
	if err != nil {
		t.Fatalf("CreateVersion(%s/%s): %v", service, version, err)
	}
	return v
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one wrapping %q", what, err, target)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// deployer returns b's Deployer, or skips the test: the deploy promises
// bind only the backends that deploy versions (the datastore backend
// stores entities only).
func deployer(t *testing.T, b backend.Backend) backend.Deployer {
	t.Helper()
	return capability[backend.Deployer](t, b, "deploying versions")
}
