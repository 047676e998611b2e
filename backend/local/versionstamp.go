package local

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// stampName is the file in a store's root whose content changes with every
// change to the versions (backend.VersionsStamper): reading a few bytes
// from it costs a serve request microseconds where listing the versions
// costs a query.
const stampName = "versions.stamp"

// VersionsStamp implements backend.VersionsStamper. A store without a
// stamp yet gets one now, before the caller lists: a writer that replaces
// it later changes it again, so no caller keeps a list older than its
// stamp.
func (b *Backend) VersionsStamp() string {
	if s := b.readStamp(); s != "" {
		return s
	}
	if b.bumpVersionsStamp() != nil {
		return ""
	}
	return b.readStamp()
}

// readStamp reads the stamp in three system calls (os.ReadFile takes five:
// serve reads it for every request), or "" when there is none. The
// descriptor is used bare: an *os.File (its allocation, finalizer and
// poller registration) was a tenth of serve's CPU per request.
func (b *Backend) readStamp() string {
	fd, err := syscall.Open(filepath.Join(b.root, stampName), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer syscall.Close(fd) //nolint:errcheck // read-only
	var buf [2 * stampBytes]byte
	for {
		n, err := syscall.Read(fd, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 {
			return ""
		}
		return string(buf[:n])
	}
}

// stampBytes is the size of a stamp's random value.
const stampBytes = 16

// bumpVersionsStamp gives the stamp a new random value, after a change to
// the versions has committed: written beside and renamed over, so a
// reader sees the old token or the new one, never part of one. When it
// cannot be written it is removed (readers then list every time); only
// when neither works does the change's caller hear of it, since readers
// would keep routing by the old versions.
func (b *Backend) bumpVersionsStamp() error {
	var rnd [stampBytes]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	name := filepath.Join(b.root, stampName)
	tmp, err := os.CreateTemp(b.root, stampName+".tmp*")
	if err == nil {
		_, err = tmp.Write([]byte(hex.EncodeToString(rnd[:])))
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), name)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err == nil {
		return nil
	}
	if rerr := os.Remove(name); rerr == nil || os.IsNotExist(rerr) {
		return nil
	}
	return fmt.Errorf("the change is saved, but a running appcfg serve may not notice it until restarted: updating %s: %w", name, err)
}

// updateVersions is update for a change to the versions: once it commits,
// the stamp changes.
func (b *Backend) updateVersions(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if err := b.update(ctx, what, fn); err != nil {
		return err
	}
	return b.bumpVersionsStamp()
}
