package local

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
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
	done        chan error
}

// committer batches blob records from concurrent PutBlob calls: the first
// caller to arrive commits, for itself and for everyone queued behind it, one
// sync of the files and directories and one transaction. A deploy uploading many small
// files then pays for a commit per batch instead of per file, while each
// PutBlob still returns only once its blob is durable.
type committer struct {
	mu       sync.Mutex
	pending  []*blobRecord
	flushing bool
}

// record makes rec durable and recorded, or returns why not.
func (b *Backend) record(ctx context.Context, rec *blobRecord) error {
	rec.done = make(chan error, 1)
	c := &b.commit
	c.mu.Lock()
	c.pending = append(c.pending, rec)
	if c.flushing {
		c.mu.Unlock()
		select {
		case err := <-rec.done:
			return err
		case <-ctx.Done():
			// The record may still commit, which is allowed: the blob is
			// then complete, only reported late.
			return fmt.Errorf("recording blob %s: %w", rec.digest, ctx.Err())
		}
	}
	c.flushing = true
	for len(c.pending) > 0 {
		batch := c.pending
		c.pending = nil
		c.mu.Unlock()
		// Others' records ride on this flush, so the caller's cancellation
		// must not fail them; a flush is one short transaction.
		err := b.flush(context.WithoutCancel(ctx), batch)
		for _, r := range batch {
			r.done <- cmp.Or(r.err, err)
		}
		c.mu.Lock()
	}
	c.flushing = false
	c.mu.Unlock()
	return <-rec.done
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
		if err := os.Rename(r.tmp, r.path); err != nil {
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
