//go:build !linux

package local

import (
	"fmt"
	"os"
)

// syncsFileSystem is false: a batch is synced file by file and directory
// by directory, so a new directory is synced into its parent when made.
const syncsFileSystem = false

// syncBatch makes a batch durable one fsync at a time, where syncfs is not
// available: with files, each temporary file's content (before the
// renames); without, each directory a file was renamed into.
func (b *Backend) syncBatch(batch []*blobRecord, files bool) error {
	dirs := make(map[string]bool)
	for _, r := range batch {
		if r.synced || r.err != nil {
			continue
		}
		if !files {
			dirs[r.dir] = true
			continue
		}
		f, err := os.Open(r.tmp)
		if err != nil {
			return fmt.Errorf("syncing blob %s: %w", r.digest, err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("syncing blob %s: %w", r.digest, err)
		}
	}
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	if files {
		b.step("sync files")
	} else {
		b.step("sync dirs")
	}
	return nil
}

// syncData makes f's content durable (an fsync where fdatasync is not
// available).
func syncData(f *os.File) error { return f.Sync() }
