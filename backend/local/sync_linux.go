package local

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncsFileSystem says that one sync makes every change to the store's
// file system durable, a new directory's entry included (see
// ensureBlobDir).
const syncsFileSystem = true

// syncBatch makes a batch durable with one syncfs of the store's file
// system: a deploy of thousands of small files otherwise pays an fsync per
// file and per directory. files asks for the temporary files' content
// (before the renames), !files for the renames themselves; syncfs covers
// both.
func (b *Backend) syncBatch(batch []*blobRecord, files bool) error {
	pending := false
	for _, r := range batch {
		pending = pending || !r.synced
	}
	if !pending {
		return nil
	}
	d, err := os.Open(b.root)
	if err != nil {
		return fmt.Errorf("syncing stored blobs: %w", err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("syncing stored blobs: %w", err)
	}
	if files {
		b.step("sync files")
	} else {
		b.step("sync dirs")
	}
	return nil
}

// syncData makes f's content durable with fdatasync, as SQLite syncs its
// files on Linux: the write-ahead log's size and blocks, without the
// journal commit an fsync spends on its modification time.
func syncData(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
