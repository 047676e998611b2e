package local

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

// ingestLeftovers returns the files left in the ingest directory.
func ingestLeftovers(t *testing.T, b *Backend) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(b.root, blobDir, ingestDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// An ingested content gets its digest from the store, waits for SyncBlobs
// like a PutBlob's, and ends in the usual layout; the store then holds
// content for the app, so a later deploy hashes before sending.
func TestIngestBlob(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	if yes, err := b.IngestsFor(ctx, "app"); err != nil || !yes {
		t.Fatalf("IngestsFor a new app = %v, %v; want true", yes, err)
	}
	data := "read once, hashed while copied\n"
	d, err := b.IngestBlob(ctx, "app", int64(len(data)), strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if want := sha1hex([]byte(data)); d != want {
		t.Fatalf("IngestBlob digest %s, want %s", d, want)
	}
	if miss, err := b.MissingBlobs(ctx, "app", []string{d}); err != nil || len(miss) != 1 {
		t.Fatalf("before SyncBlobs MissingBlobs = %v, %v; want the ingested blob (not confirmed yet)", miss, err)
	}
	if err := b.SyncBlobs(ctx); err != nil {
		t.Fatal(err)
	}
	if miss, err := b.MissingBlobs(ctx, "app", []string{d}); err != nil || len(miss) != 0 {
		t.Fatalf("after SyncBlobs MissingBlobs = %v, %v; want none", miss, err)
	}
	if got, err := os.ReadFile(b.blobPath(d)); err != nil || string(got) != data {
		t.Fatalf("blob file holds %q (%v), want %q", got, err, data)
	}
	if left := ingestLeftovers(t, b); len(left) != 0 {
		t.Fatalf("files left in blobs/%s: %v", ingestDir, left)
	}
	if yes, err := b.IngestsFor(ctx, "app"); err != nil || yes {
		t.Fatalf("IngestsFor an app with content = %v, %v; want false", yes, err)
	}
	if yes, err := b.IngestsFor(ctx, "other"); err != nil || !yes {
		t.Fatalf("IngestsFor another app = %v, %v; want true", yes, err)
	}
}

// An ingested blob is made durable in the order a PutBlob's is (see
// TestBlobDurableBeforeRename), though its temporary file is elsewhere.
func TestIngestedBlobDurableBeforeRename(t *testing.T) {
	b := openAt(t, t.TempDir())
	data := []byte("ingested, durable before it is named\n")
	d := sha1hex(data)
	steps := durableSteps(t, b, d, int64(len(data)))
	if _, err := b.IngestBlob(t.Context(), "app", int64(len(data)), strings.NewReader(string(data))); err != nil {
		t.Fatal(err)
	}
	if len(*steps) != 0 {
		t.Fatalf("IngestBlob alone took steps %v: its blob waits for SyncBlobs", *steps)
	}
	if err := b.SyncBlobs(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"sync files", "rename " + d, "sync dirs", "commit"}; !slices.Equal(*steps, want) {
		t.Fatalf("steps %v, want %v", *steps, want)
	}
}

// A content that is not the size announced (the file changed while read)
// is refused, and leaves neither a file nor a pending blob.
func TestIngestWrongSizeStoresNothing(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	for _, size := range []int64{3, 100} {
		_, err := b.IngestBlob(ctx, "app", size, strings.NewReader("not that long, or longer"))
		if !errors.Is(err, backend.ErrDigestMismatch) {
			t.Fatalf("IngestBlob of %d bytes announced: %v, want ErrDigestMismatch", size, err)
		}
	}
	if left := ingestLeftovers(t, b); len(left) != 0 {
		t.Fatalf("refused contents left %v", left)
	}
	if n := len(b.commit.take()); n != 0 {
		t.Fatalf("refused contents left %d blobs waiting for SyncBlobs", n)
	}
}

// A content the store already holds durably (for another app) is not
// written twice: the held file stays as it is, and the blob is recorded for
// the new app at the next SyncBlobs.
func TestIngestHeldContentKeepsTheFile(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	data := []byte("shared by two apps\n")
	d := put(t, b, "first", data)
	before, err := os.Stat(b.blobPath(d))
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.IngestBlob(ctx, "second", int64(len(data)), strings.NewReader(string(data)))
	if err != nil || got != d {
		t.Fatalf("IngestBlob = %s, %v; want %s", got, err, d)
	}
	if left := ingestLeftovers(t, b); len(left) != 0 {
		t.Fatalf("a held content left a copy: %v", left)
	}
	if err := b.SyncBlobs(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(b.blobPath(d))
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the held blob file was replaced (%v)", err)
	}
	if miss, err := b.MissingBlobs(ctx, "second", []string{d}); err != nil || len(miss) != 0 {
		t.Fatalf("MissingBlobs for the second app = %v, %v; want none", miss, err)
	}
}
