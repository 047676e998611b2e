package appengine

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/appcfg/appcfg/appconfig/appconfigtest"
	"github.com/appcfg/appcfg/backend"
)

// TestIngestsOnlyAFirstDeploy: IngestsFor says yes only for a project with
// no service whose code bucket the Prefetch listing found empty; a project
// with a service is answered without waiting for the listing, and without a
// listing under way the deploy hashes first.
func TestIngestsOnlyAFirstDeploy(t *testing.T) {
	ctx := t.Context()
	b, _ := newTestBackend(t)
	if yes, err := b.IngestsFor(ctx, "p"); yes || err != nil {
		t.Errorf("without a listing under way: IngestsFor = %v, %v; want false", yes, err)
	}
	b.Prefetch(ctx, "p")
	if yes, err := b.IngestsFor(ctx, "p"); !yes || err != nil {
		t.Errorf("a new project, an empty bucket: IngestsFor = %v, %v; want true", yes, err)
	}
	// The listing of the bucket as it was is not left for the next
	// deploy of the same run (another service) to take.
	b.mu.Lock()
	_, left := b.pending["p"]
	b.mu.Unlock()
	if left {
		t.Error("the listing of the empty bucket was left for the next deploy to take")
	}

	// An object in the bucket: no.
	b, _ = newTestBackend(t)
	putBytes(t, b, []byte("held\n"))
	b.Prefetch(ctx, "p")
	if yes, err := b.IngestsFor(ctx, "p"); yes || err != nil {
		t.Errorf("a bucket holding an object: IngestsFor = %v, %v; want false", yes, err)
	}

	// A service: no, known from the list of services read before,
	// without waiting for the listing (held here until the test ends).
	b, f := newTestBackend(t)
	content := []byte("print(3)\n")
	d := putBytes(t, b, content)
	if _, err := b.CreateVersion(ctx, backend.VersionSpec{App: "p", Service: "default", Version: "v1", Runtime: "python312",
		Model: appconfigtest.Model(t, "app.yaml", "runtime: python312\n"), Files: []backend.FileRef{{Path: "main.py", SHA1: d, Size: int64(len(content))}}}); err != nil {
		t.Fatal(err)
	}
	b = newBackendOn(t, f, Options{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before b.Close, which waits for the listing
	f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/o") {
			<-release
		}
		return false
	}
	if _, err := b.ListVersions(ctx, "p", ""); err != nil {
		t.Fatal(err)
	}
	b.Prefetch(ctx, "p")
	type answer struct {
		yes bool
		err error
	}
	got := make(chan answer, 1)
	go func() {
		yes, err := b.IngestsFor(ctx, "p")
		got <- answer{yes, err}
	}()
	select {
	case a := <-got:
		if a.yes || a.err != nil {
			t.Errorf("a project with a service: IngestsFor = %v, %v; want false", a.yes, a.err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("IngestsFor of a project with a service waited for the bucket listing")
	}
}

// TestIngestBlob: a content is stored under its SHA-1, read once; the same
// content again is not sent again; a content of the wrong size stores
// nothing; a large one (a resumable upload) is hashed, then sent from the
// start.
func TestIngestBlob(t *testing.T) {
	ctx := t.Context()
	b, f := newTestBackend(t)
	uploads := func() int {
		n := 0
		for _, c := range f.callLog() {
			if strings.HasPrefix(c, "POST /upload/") || strings.HasPrefix(c, "PUT /upload/") {
				n++
			}
		}
		return n
	}
	content := []byte("def app(): pass\n")
	r := &countingReader{r: bytes.NewReader(content)}
	d, err := b.IngestBlob(ctx, "p", int64(len(content)), r)
	if err != nil || d != sha1hex(content) {
		t.Fatalf("IngestBlob = %q, %v; want %s", d, err, sha1hex(content))
	}
	if r.n != int64(len(content)) {
		t.Errorf("read %d bytes of %d", r.n, len(content))
	}
	if _, err := b.IngestBlob(ctx, "p", int64(len(content)), bytes.NewReader(content)); err != nil || uploads() != 1 {
		t.Errorf("the same content again: %v, %d uploads; want 1", err, uploads())
	}
	if _, err := b.IngestBlob(ctx, "p", 3, bytes.NewReader([]byte("four"))); !errors.Is(err, backend.ErrDigestMismatch) {
		t.Errorf("a content longer than its size: %v, want ErrDigestMismatch", err)
	}
	if _, err := b.IngestBlob(ctx, "p", 5, bytes.NewReader([]byte("four"))); !errors.Is(err, backend.ErrDigestMismatch) {
		t.Errorf("a content shorter than its size: %v, want ErrDigestMismatch", err)
	}
	// A read that fails names no digest it does not have yet.
	if _, err := b.IngestBlob(ctx, "p", 4, iotest.ErrReader(errors.New("disk gone"))); err == nil ||
		err.Error() != "reading the content: disk gone" {
		t.Errorf("a failing read: %v, want \"reading the content: disk gone\"", err)
	}
	if uploads() != 1 {
		t.Errorf("contents of the wrong size were sent: %d uploads, want 1", uploads())
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), (resumableThreshold+100)/16)
	d, err = b.IngestBlob(ctx, "p", int64(len(big)), bytes.NewReader(big))
	if err != nil || d != sha1hex(big) {
		t.Fatalf("IngestBlob of %d bytes = %q, %v", len(big), d, err)
	}
	if m, err := b.MissingBlobs(ctx, "p", []string{sha1hex(content), sha1hex(big)}); err != nil || len(m) != 0 {
		t.Errorf("after the ingests, missing %v, %v", m, err)
	}
	obj, err := f.gcs.GetObject(f.app("p").bucket, sha1hex(big))
	if err != nil || !bytes.Equal(obj.Content, big) {
		t.Errorf("the large object holds %d bytes (%v), want the %d ingested", len(obj.Content), err, len(big))
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
