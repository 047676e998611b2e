package local

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// A lock row commits without waiting for the disk (updateUnsynced): a
// lease is only worth anything while its holder runs, and a power cut that
// loses the row stops the holder too. An unchanged redeploy so takes and
// frees its lock without an fsync.

// lockWhat words a lock key for messages.
func lockWhat(key backend.LockKey) string {
	return fmt.Sprintf("the deploy lock of version %s of service %s", key.Version, key.Service)
}

// readLock returns the lock row for key: its token and owner, or ok false
// when there is none.
func readLock(ctx context.Context, tx *sql.Tx, key backend.LockKey) (token string, o backend.Owner, ok bool, err error) {
	var acquired, expires int64
	err = tx.QueryRowContext(ctx, `
SELECT token, owner_user, owner_host, owner_pid, acquired, expires FROM locks
WHERE app = ? AND service = ? AND version = ?`, key.App, key.Service, key.Version).
		Scan(&token, &o.User, &o.Host, &o.PID, &acquired, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", backend.Owner{}, false, nil
	}
	if err != nil {
		return "", backend.Owner{}, false, dbErr(ctx, "reading "+lockWhat(key), err)
	}
	o.Acquired, o.Expires = time.Unix(0, acquired), time.Unix(0, expires)
	return token, o, true, nil
}

// AcquireLock takes the lock unless another unexpired holder has it. An
// expired holding is replaced, which is what frees a crashed deploy's lock.
func (b *Backend) AcquireLock(ctx context.Context, key backend.LockKey, owner backend.Owner, lease time.Duration) (string, error) {
	if err := checkNames(key.App, key.Service, key.Version); err != nil {
		return "", err
	}
	if lease <= 0 {
		return "", fmt.Errorf("taking %s: the lease %v is not positive", lockWhat(key), lease)
	}
	token, err := newToken()
	if err != nil {
		return "", fmt.Errorf("taking %s: %w", lockWhat(key), err)
	}
	err = b.updateUnsynced(ctx, "taking "+lockWhat(key), func(tx *sql.Tx) error {
		now := b.now()
		_, held, ok, err := readLock(ctx, tx, key)
		if err != nil {
			return err
		}
		if ok && now.Before(held.Expires) {
			return &backend.LockedError{Key: key, Owner: held}
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO locks (app, service, version, token, owner_user, owner_host, owner_pid, acquired, expires)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (app, service, version) DO UPDATE SET
	token = excluded.token, owner_user = excluded.owner_user, owner_host = excluded.owner_host,
	owner_pid = excluded.owner_pid, acquired = excluded.acquired, expires = excluded.expires`,
			key.App, key.Service, key.Version, token, owner.User, owner.Host, owner.PID,
			now.UnixNano(), now.Add(lease).UnixNano())
		if err != nil {
			return dbErr(ctx, "taking "+lockWhat(key), err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// newToken returns 128 random bits in hex: unguessable, so only the holder
// can renew or release.
func newToken() (string, error) {
	var t [16]byte
	if _, err := rand.Read(t[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(t[:]), nil
}

// RenewLock extends the holding token names. An expired holding that no one
// took since is still ours and is renewed. A lost one is reported with its
// new holder.
func (b *Backend) RenewLock(ctx context.Context, key backend.LockKey, token string, lease time.Duration) error {
	if lease <= 0 {
		return fmt.Errorf("renewing %s: the lease %v is not positive", lockWhat(key), lease)
	}
	return b.updateUnsynced(ctx, "renewing "+lockWhat(key), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
UPDATE locks SET expires = ? WHERE app = ? AND service = ? AND version = ? AND token = ?`,
			b.now().Add(lease).UnixNano(), key.App, key.Service, key.Version, token)
		if err != nil {
			return dbErr(ctx, "renewing "+lockWhat(key), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return dbErr(ctx, "renewing "+lockWhat(key), err)
		}
		if n > 0 {
			return nil
		}
		lost := &backend.LockLostError{Key: key}
		if _, o, ok, err := readLock(ctx, tx, key); err != nil {
			return err
		} else if ok {
			lost.Owner = &o
		}
		return lost
	})
}

// ReleaseLock frees the holding token names, if it still exists.
func (b *Backend) ReleaseLock(ctx context.Context, key backend.LockKey, token string) error {
	return b.updateUnsynced(ctx, "releasing "+lockWhat(key), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM locks WHERE app = ? AND service = ? AND version = ? AND token = ?`,
			key.App, key.Service, key.Version, token)
		if err != nil {
			return dbErr(ctx, "releasing "+lockWhat(key), err)
		}
		return nil
	})
}

// BreakLock frees the lock whoever holds it and returns the unexpired owner
// it had.
func (b *Backend) BreakLock(ctx context.Context, key backend.LockKey) (*backend.Owner, error) {
	var had *backend.Owner
	err := b.updateUnsynced(ctx, "breaking "+lockWhat(key), func(tx *sql.Tx) error {
		_, o, ok, err := readLock(ctx, tx, key)
		if err != nil || !ok {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM locks WHERE app = ? AND service = ? AND version = ?`,
			key.App, key.Service, key.Version); err != nil {
			return dbErr(ctx, "breaking "+lockWhat(key), err)
		}
		if b.now().Before(o.Expires) {
			had = &o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return had, nil
}
