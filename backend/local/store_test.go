package local

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// A blob file truncated or removed behind the store's back is missing: the
// deploy asking re-sends it, and the re-sent content replaces the bad file.
func TestMissingBlobsChecksFiles(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	gone := put(t, b, "app", []byte("removed by hand\n"))
	short := put(t, b, "app", []byte("truncated by a disk error\n"))
	kept := put(t, b, "app", []byte("still fine\n"))
	if err := os.Remove(b.blobPath(gone)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(b.blobPath(short), 3); err != nil {
		t.Fatal(err)
	}
	got, err := b.MissingBlobs(t.Context(), "app", []string{gone, short, kept})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{gone, short}; !slices.Equal(got, want) {
		t.Fatalf("MissingBlobs = %v, want the removed and the truncated blob %v", got, want)
	}
	put(t, b, "app", []byte("truncated by a disk error\n"))
	if data, _ := os.ReadFile(b.blobPath(short)); string(data) != "truncated by a disk error\n" {
		t.Fatalf("re-sending did not replace the truncated file: it holds %q", data)
	}
}

// An appcfg.db emptied (or removed) beside existing blobs is refused: a new
// database there would forget every version and orphan every blob.
func TestEmptyDatabaseBesideBlobsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(path string) error
		want   string
	}{
		{"empty", func(p string) error { return os.Truncate(p, 0) }, "is empty (0 bytes)"},
		{"missing", os.Remove, "is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := Open(t.Context(), "", Config{Root: dir}, backend.Env{})
			if err != nil {
				t.Fatal(err)
			}
			put(t, b, "app", []byte("orphaned if the database is re-created\n"))
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			for _, suffix := range []string{"-wal", "-shm"} {
				os.Remove(filepath.Join(dir, dbName+suffix))
			}
			if err := tc.damage(filepath.Join(dir, dbName)); err != nil {
				t.Fatal(err)
			}
			_, err = Open(t.Context(), "", Config{Root: dir}, backend.Env{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "restore") {
				t.Fatalf("Open of a store whose database %s: %v, want a refusal saying it %s and what to do", tc.name, err, tc.want)
			}
			if fi, err := os.Stat(filepath.Join(dir, dbName)); err == nil && fi.Size() > 0 {
				t.Fatalf("the refused open re-created the database (%d bytes)", fi.Size())
			}
		})
	}
	// A store with no blob yet is simply new.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, dbName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	openAt(t, dir)
}

// Temporary files of killed deploys are swept when a store opens, once they
// are older than any lease; a fresh one may belong to a deploy in flight and
// stays.
func TestOrphanTempFilesSwept(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir)
	sub := filepath.Join(dir, blobDir, "ab")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(sub, tmpPrefix+"cdef-123")
	fresh := filepath.Join(sub, tmpPrefix+"cdef-456")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), 1000), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-tmpMaxAge - time.Minute)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	// The store was swept when first opened: the next sweep waits.
	openAt(t, dir)
	if _, err := os.Stat(old); err != nil {
		t.Fatal("a store swept again at once: its sweep should wait for tmpMaxAge")
	}
	marker := filepath.Join(dir, blobDir, sweptMarker)
	if err := os.Chtimes(marker, past, past); err != nil {
		t.Fatal(err)
	}
	openAt(t, dir)
	if _, err := os.Stat(old); err == nil {
		t.Error("a temporary file older than any lease was not swept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file (a deploy in flight) was swept: %v", err)
	}
}

// TestBlobDurableBeforeRename pins the order that survives a power loss:
// the content is synced while still under its temporary name, then renamed,
// then the directory synced, and only then recorded. A power loss before the
// rename leaves a temporary file (swept later); before the record, a
// complete unrecorded file (sent again by the next deploy). At no point can
// a blob name hold unsynced content, nor a record name an absent file.
func TestBlobDurableBeforeRename(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	data := []byte("durable before it is named\n")
	d := sha1hex(data)
	steps := durableSteps(t, b, d, int64(len(data)))
	if err := b.PutBlob(t.Context(), "app", d, int64(len(data)), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if len(*steps) != 0 {
		t.Fatalf("PutBlob alone took steps %v: its blob waits for SyncBlobs", *steps)
	}
	if err := b.SyncBlobs(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := []string{"sync files", "rename " + d, "sync dirs", "commit"}
	if !slices.Equal(*steps, want) {
		t.Fatalf("steps %v, want %v", *steps, want)
	}
}

// durableSteps records the steps b takes to make blob d (of size bytes)
// durable, checking at each the order TestBlobDurableBeforeRename pins:
// not in place before its content is synced, in place from its rename on,
// recorded only at the commit.
func durableSteps(t *testing.T, b *Backend, d string, size int64) *[]string {
	t.Helper()
	var steps []string
	b.onStep = func(step string) {
		inPlace := b.fileInPlace(d, size)
		recorded, err := recordedBlobs(t.Context(), b.db, "app", []string{d})
		if err != nil {
			t.Error(err)
		}
		switch step {
		case "sync files":
			if inPlace {
				t.Errorf("the blob had its final name before its content was synced")
			}
		case "rename " + d, "sync dirs":
			if !inPlace {
				t.Errorf("after %q the blob is not in place", step)
			}
		}
		if len(recorded) > 0 && step != "commit" {
			t.Errorf("the blob was recorded before step %q", step)
		}
		steps = append(steps, step)
	}
	return &steps
}
