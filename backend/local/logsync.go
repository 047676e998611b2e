package local

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/appcfg/appcfg/internal/crash"
)

// logSyncDelay is how long request logs may sit in the kernel's page cache,
// written but not yet synced to disk, before the background sync.
const logSyncDelay = 250 * time.Millisecond

// Request logs are written without waiting for the disk: serve holds each
// response until its log is written, and a sync per batch (the lines file's
// fsync and SQLite's at commit) capped it at a few hundred requests a
// second. What write(2) hands the kernel survives the process being killed
// (SIGKILL, a crash), which is the loss serve's wait is there to prevent;
// the commit goes to SQLite's write-ahead log with synchronous=NORMAL, which
// SQLite replays on the next open, exactly once. Durability against power
// loss comes in the background: logSyncDelay after a write, the lines files
// and then the write-ahead log are synced, in one batch for every write
// meanwhile, and again on Close. A power loss may so lose the last
// logSyncDelay of logs; a chunk whose lines did not reach the disk finds
// its lines file short and is listed from its records (linesStored).
type logSyncer struct {
	mu      sync.Mutex
	dirty   map[string]bool // lines files written since the last sync
	pending bool            // a sync is due
	timer   *time.Timer
	err     error         // the first failed background sync, reported by close
	syncing sync.Mutex    // held by a sync, so close waits for one under way
	delay   time.Duration // logSyncDelay when 0; tests set it to hold the timer back
}

// writeLazily runs fn, a transaction recording request logs, on a
// connection that commits without syncing, then schedules the sync.
func (b *Backend) writeLazily(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	err := b.updateUnsynced(ctx, what, fn)
	b.scheduleLogSync()
	return err
}

// markLines records that a lines file was written and needs its sync.
func (s *logSyncer) markLines(file string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty == nil {
		s.dirty = map[string]bool{}
	}
	s.dirty[file] = true
}

// scheduleLogSync arms the background sync unless it is armed already.
func (b *Backend) scheduleLogSync() {
	s := &b.logSync
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending {
		return
	}
	s.pending = true
	s.timer = time.AfterFunc(cmp.Or(s.delay, logSyncDelay), func() {
		// A panic here is a bug, reported by close as a failed sync is.
		var err error
		defer func() {
			if err != nil {
				s.mu.Lock()
				if s.err == nil {
					s.err = err
				}
				s.mu.Unlock()
			}
		}()
		defer crash.Recover(&err)
		err = b.syncLogs()
	})
}

// syncLogs makes what was written so far durable: the lines files first,
// so a synced chunk rarely lacks its lines, then the write-ahead log.
func (b *Backend) syncLogs() error {
	s, root := &b.logSync, b.root
	s.syncing.Lock()
	defer s.syncing.Unlock()
	b.step("sync request logs")
	s.mu.Lock()
	dirty := s.dirty
	s.dirty, s.pending = nil, false
	s.mu.Unlock()
	var errs []error
	for file := range dirty {
		errs = append(errs, syncFile(filepath.Join(root, logDir, file)))
	}
	errs = append(errs, syncFile(filepath.Join(root, dbName+"-wal")))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("syncing request logs to disk: %w", err)
	}
	return nil
}

// closeLogSync runs the pending sync now and reports the first failed one.
func (b *Backend) closeLogSync() error {
	s := &b.logSync
	s.mu.Lock()
	pending := s.pending
	if s.timer != nil && s.timer.Stop() {
		pending = true
	}
	s.mu.Unlock()
	var err error
	if pending {
		err = b.syncLogs()
	}
	s.syncing.Lock() // a background sync that was already running
	s.syncing.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.err, err)
}

// syncFile fsyncs a file; one gone (a WAL checkpointed away and removed)
// has nothing left to sync.
func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
