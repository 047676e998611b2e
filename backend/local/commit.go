package local

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// blobRecord is a blob whose file is in place, waiting to be made durable
// and recorded.
type blobRecord struct {
	app, digest string
	size        int64
	path        string // the blob's file
	dir         string // the blobs/ab directory the file was renamed into
	synced      bool   // the file was already durable (recorded for another app)
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
			r.done <- err
		}
		c.mu.Lock()
	}
	c.flushing = false
	c.mu.Unlock()
	return <-rec.done
}

// flush makes the batch's files and directories durable, then records them
// all in one transaction.
func (b *Backend) flush(ctx context.Context, batch []*blobRecord) error {
	if err := b.syncBatch(batch); err != nil {
		return err
	}
	what := fmt.Sprintf("recording %d blob(s)", len(batch))
	return b.update(ctx, what, func(tx *sql.Tx) error {
		apps := make(map[string]int64)
		stmt, err := tx.PrepareContext(ctx,
			`INSERT INTO blobs (app_id, sha1, size, stored) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return dbErr(ctx, what, err)
		}
		defer stmt.Close()
		now := b.now().UnixNano()
		for _, r := range batch {
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
}
