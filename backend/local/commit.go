package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// blobRecord is a blob waiting to be made durable and recorded: its
// verified content is in the temporary file tmp, or already in place.
type blobRecord struct {
	app, digest string
	size        int64
	tmp         string // the temporary file to rename into place; "" when synced
	path        string // the blob's file
	dir         string // the blobs/ab directory of path
	synced      bool   // the file was already durable (recorded for another app)
	err         error  // why this record failed, set by flush
}

// committer holds the blobs PutBlob stored until SyncBlobs confirms them
// all with one sync of the files and directories and one transaction. A
// deploy uploading thousands of files then pays for a few commits (one per
// SyncBlobs, which upload.Deploy calls every few tens of megabytes and
// before creating the version), not one per file or per handful of files:
// a flush syncs the whole file system (syncfs), whose cost on a busy disk
// does not shrink with the batch.
type committer struct {
	mu      sync.Mutex
	pending []*blobRecord
	// flushing is held by the SyncBlobs that flushes, so a second one
	// returns only after the blobs stored before it are durable.
	flushing sync.Mutex
}

// add queues rec for the next SyncBlobs.
func (c *committer) add(rec *blobRecord) {
	c.mu.Lock()
	c.pending = append(c.pending, rec)
	c.mu.Unlock()
}

// take returns the queued records and empties the queue.
func (c *committer) take() []*blobRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch := c.pending
	c.pending = nil
	return batch
}

// SyncBlobs implements backend.BlobSyncer: every blob stored by a PutBlob
// that returned before it is made durable and recorded, or it returns why
// not (the first failed blob; the others stay confirmed).
func (b *Backend) SyncBlobs(ctx context.Context) error {
	c := &b.commit
	c.flushing.Lock()
	defer c.flushing.Unlock()
	batch := c.take()
	if len(batch) == 0 {
		return nil
	}
	// A flush is one short transaction; a cancellation half-way would
	// only leave temporary files to sweep.
	if err := b.flush(context.WithoutCancel(ctx), batch); err != nil {
		return b.noSpace(fmt.Sprintf("storing %d blob(s)", len(batch)), err)
	}
	for _, r := range batch {
		if r.err != nil {
			return b.noSpace("storing blob "+r.digest, r.err)
		}
	}
	return nil
}

// dropPending removes the temporary files of blobs never confirmed, when
// the store closes.
func (c *committer) dropPending() {
	removeTemps(c.take())
}

// flush makes the batch durable, then records it, in the order that lets
// a power loss at any point leave only what the next deploy repairs:
//
//  1. sync the temporary files: their content is on disk;
//  2. rename each into place, then sync the directories: a name in blobs/
//     now always holds complete, synced content;
//  3. record the blobs in one transaction, whose commit is durable
//     (synchronous=FULL) when it returns.
//
// Lost before 1 or 2: unrecorded temporary files, swept when a store opens.
// Lost before 3: unrecorded blob files, which the next deploy, asking
// MissingBlobs, sends again (the rename replaces them). A record therefore
// never names a file that a crash left partial.
//
// A record whose file is no longer in place when the transaction holds the
// write lock (collected by a concurrent CollectBlobs) fails alone.
func (b *Backend) flush(ctx context.Context, batch []*blobRecord) error {
	if err := b.syncBatch(batch, true); err != nil {
		removeTemps(batch)
		return err
	}
	renamed := false
	for _, r := range batch {
		if r.tmp == "" {
			continue
		}
		err := os.Rename(r.tmp, r.path)
		if errors.Is(err, fs.ErrNotExist) {
			// An ingested blob's blobs/ab directory may not exist yet;
			// the sync of the renames below covers its creation too.
			if err = b.ensureBlobDir(r.dir); err == nil {
				err = os.Rename(r.tmp, r.path)
			}
		}
		if err != nil {
			os.Remove(r.tmp)
			r.err = fmt.Errorf("storing blob %s: %w", r.digest, err)
			continue
		}
		b.step("rename " + r.digest)
		renamed = true
	}
	if renamed {
		if err := b.syncBatch(batch, false); err != nil {
			return err
		}
	}
	what := fmt.Sprintf("recording %d blob(s)", len(batch))
	err := b.update(ctx, what, func(tx *sql.Tx) error {
		apps := make(map[string]int64)
		stmt, err := tx.PrepareContext(ctx,
			`INSERT INTO blobs (app_id, sha1, size, stored) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return dbErr(ctx, what, err)
		}
		defer stmt.Close()
		now := b.now().UnixNano()
		for _, r := range batch {
			if r.err != nil {
				continue
			}
			// Under the write lock: a collection removes files only
			// while it holds it, so what is in place now stays.
			if !b.fileInPlace(r.digest, r.size) {
				r.err = fmt.Errorf("blob %s was removed from the store while it was being stored (a collection of unused blobs ran meanwhile): run the update again", r.digest)
				continue
			}
			appID, ok := apps[r.app]
			if !ok {
				if appID, err = ensureApp(ctx, tx, r.app); err != nil {
					return err
				}
				apps[r.app] = appID
			}
			if _, err := stmt.ExecContext(ctx, appID, r.digest, r.size, now); err != nil {
				return dbErr(ctx, "recording blob "+r.digest, err)
			}
		}
		return nil
	})
	if err == nil {
		b.step("commit")
	}
	return err
}

// removeTemps deletes the batch's temporary files after a failed sync.
func removeTemps(batch []*blobRecord) {
	for _, r := range batch {
		if r.tmp != "" {
			os.Remove(r.tmp)
		}
	}
}
