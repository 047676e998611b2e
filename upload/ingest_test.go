package upload

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
)

// ingestWatch is the local store with every capability, counting what a
// deploy stores through each path; cancel, when set, is called after n
// ingests, as a Ctrl-C would.
type ingestWatch struct {
	*local.Backend
	ingests  atomic.Int64
	puts     atomic.Int64
	unlocked atomic.Int64 // ingests made while the version lock was free
	n        int64
	cancel   context.CancelFunc
}

func (w *ingestWatch) IngestBlob(ctx context.Context, app string, size int64, r io.Reader) (string, error) {
	key := backend.LockKey{App: "app", Service: "default", Version: "v1"}
	if tok, err := w.AcquireLock(ctx, key, backend.Owner{User: "intruder", Acquired: time.Now()}, time.Minute); err == nil {
		w.unlocked.Add(1)
		w.ReleaseLock(ctx, key, tok)
	}
	d, err := w.Backend.IngestBlob(ctx, app, size, r)
	if err == nil && w.ingests.Add(1) == w.n && w.cancel != nil {
		w.cancel()
	}
	return d, err
}

func (w *ingestWatch) PutBlob(ctx context.Context, app, digest string, size int64, r io.Reader) error {
	w.puts.Add(1)
	return w.Backend.PutBlob(ctx, app, digest, size, r)
}

// A first deploy to a store that ingests reads each file once: the store
// hashes it while copying it, under the version lock, and nothing is sent
// again; the result still counts every content as sent.
func TestFirstDeployIngestsUnderTheLock(t *testing.T) {
	ctx := context.Background()
	w := &ingestWatch{Backend: openLocal(t).(*local.Backend)}
	dir, files := writeApp(t, 20)
	res, err := Deploy(ctx, w, baseOptions(dir, files), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w.ingests.Load() != 20 || w.puts.Load() != 0 {
		t.Fatalf("first deploy: %d files ingested, %d sent; want 20 and 0", w.ingests.Load(), w.puts.Load())
	}
	if n := w.unlocked.Load(); n != 0 {
		t.Fatalf("%d files were stored while the version lock was free", n)
	}
	if res.Files != 20 || res.Blobs != 19 || res.Missing != 19 || len(res.Uploaded) != 19 || !res.Promoted {
		t.Fatalf("first deploy: %+v", res)
	}
	if _, err := w.OpenBlob(ctx, "app", sha1hexOf("content of file 7\n")); err != nil {
		t.Fatalf("an ingested content is not in the store: %v", err)
	}
	res, err = Deploy(ctx, w, baseOptions(dir, files), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Missing != 0 || w.ingests.Load() != 20 || w.puts.Load() != 0 {
		t.Fatalf("redeploy sent %d blobs (%d ingests in all, %d puts)", res.Missing, w.ingests.Load(), w.puts.Load())
	}
}

// A first deploy interrupted while ingesting confirms what it stored, so
// the next run sends only the rest.
func TestInterruptedIngestResumes(t *testing.T) {
	b := openLocal(t).(*local.Backend)
	dir, files := writeApp(t, 40)
	ctx, cancel := context.WithCancel(context.Background())
	w := &ingestWatch{Backend: b, n: 10, cancel: cancel}
	opts := baseOptions(dir, files)
	opts.HashWorkers = 1
	if _, err := Deploy(ctx, w, opts, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted deploy returned %v", err)
	}
	stored := w.ingests.Load()
	res, err := Deploy(context.Background(), b, baseOptions(dir, files), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Of 40 files, the last has the first's content: 39 contents.
	if int64(res.Missing) != 39-stored {
		t.Fatalf("resume sent %d blobs; %d of 39 were already stored", res.Missing, stored)
	}
}

// remoteIngester is the local store dressed as a remote host (not Local,
// 8 connections) that counts the ingests under way at once.
type remoteIngester struct {
	*local.Backend
	now, most atomic.Int64
}

func (r *remoteIngester) Properties() backend.Properties {
	return backend.Properties{Connections: 8}
}

func (r *remoteIngester) IngestBlob(ctx context.Context, app string, size int64, rd io.Reader) (string, error) {
	n := r.now.Add(1)
	defer r.now.Add(-1)
	for m := r.most.Load(); n > m && !r.most.CompareAndSwap(m, n); m = r.most.Load() {
	}
	// Long enough for the other workers to start (a round trip).
	time.Sleep(20 * time.Millisecond)
	return r.Backend.IngestBlob(ctx, app, size, rd)
}

// A remote host that ingests a first deploy's files (each one an upload,
// bound by its round trip) gets as many at once as it has connections, not
// HashWorkers (the CPUs) as a local store does.
func TestRemoteIngestRunsAsManyAsConnections(t *testing.T) {
	r := &remoteIngester{Backend: openLocal(t).(*local.Backend)}
	dir, files := writeApp(t, 40)
	opts := baseOptions(dir, files)
	opts.HashWorkers = 1
	if _, err := Deploy(context.Background(), r, opts, nil); err != nil {
		t.Fatal(err)
	}
	if got := r.most.Load(); got < 4 || got > 8 {
		t.Errorf("at most %d ingests ran at once, want up to the host's 8 connections", got)
	}
}
