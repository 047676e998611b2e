//go:build !linux

package local

import (
	"fmt"
	"os"
)

// syncBatch makes the files and directories of a batch durable one fsync
// at a time, where syncfs is not available.
func (b *Backend) syncBatch(batch []*blobRecord) error {
	dirs := make(map[string]bool)
	for _, r := range batch {
		if r.synced {
			continue
		}
		f, err := os.Open(r.path)
		if err != nil {
			return fmt.Errorf("syncing blob %s: %w", r.digest, err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("syncing blob %s: %w", r.digest, err)
		}
		dirs[r.dir] = true
	}
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}
