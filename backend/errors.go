package backend

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors; implementations wrap them so callers can test with
// errors.Is.
var (
	ErrNotFound       = errors.New("not found")
	ErrUnsupported    = errors.New("not supported by this backend")
	ErrDigestMismatch = errors.New("content does not match its SHA-1 digest")
	ErrVersionServing = errors.New("version still receives traffic")
	ErrLockLost       = errors.New("deploy lock lost")
	ErrLocked         = errors.New("locked by another deploy")
)

// MissingBlobsError reports the blobs a manifest names that the host lacks.
type MissingBlobsError struct {
	Digests []string
}

func (e *MissingBlobsError) Error() string {
	const show = 5
	d := e.Digests
	more := ""
	if len(d) > show {
		more = fmt.Sprintf(" and %d more", len(d)-show)
		d = d[:show]
	}
	return fmt.Sprintf("the host lacks %d file(s) of the manifest: %s%s", len(e.Digests), strings.Join(d, ", "), more)
}

// LockedError reports that another deploy holds a version's lock.
type LockedError struct {
	Key   LockKey
	Owner Owner
}

func (e *LockedError) Error() string {
	o := e.Owner
	return fmt.Sprintf("version %s of service %s of app %s is being deployed by %s@%s (pid %d) since %s; the lock expires at %s unless renewed",
		e.Key.Version, e.Key.Service, e.Key.App, o.User, o.Host, o.PID,
		o.Acquired.UTC().Format(time.RFC3339), o.Expires.UTC().Format(time.RFC3339))
}

// Unwrap lets errors.Is(err, ErrLocked) match.
func (e *LockedError) Unwrap() error { return ErrLocked }

// As returns b as the capability C, or an error wrapping ErrUnsupported that
// names the backend and the capability.
func As[C any](b Backend, capability string) (C, error) {
	if c, ok := b.(C); ok {
		return c, nil
	}
	var zero C
	return zero, fmt.Errorf("backend %s does not support %s: %w", b.Location(), capability, ErrUnsupported)
}
