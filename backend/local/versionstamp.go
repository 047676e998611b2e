package local

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/appcfg/appcfg/internal/diskfile"
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

// readStamp reads the stamp in three system calls (os.ReadFile takes five,
// and os.Open adds the poller's fcntl and epoll_ctl round, together a
// tenth of serve's CPU a request: serve reads it for every request), or ""
// when there is none.
func (b *Backend) readStamp() string {
	f, err := diskfile.Open(filepath.Join(b.root, stampName))
	if err != nil {
		return ""
	}
	defer f.Close()
	var buf [2 * stampBytes]byte
	n, _ := f.Read(buf[:])
	return string(buf[:n])
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
