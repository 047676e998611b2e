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
	// ErrDamagedRecord: a record in the store is not one the store
	// writes (a hand edit, a damaged page); the wrapping message names
	// the record and says what to run (appcfg verify --repair).
	ErrDamagedRecord = errors.New("a record in the store is damaged")

	// Failure classes. A backend wraps one of these (with %w) around a
	// host's answer so the command's exit status says what to do
	// (README, "Exit codes"): wait and retry, fix the credentials, free a
	// quota, or try again later.

	// ErrConflict: another operation holds what was asked for (an
	// operation already in progress on the service, a held lock) and did
	// not free it within the time allowed. ErrLocked is one case of it.
	ErrConflict = errors.New("another operation is in progress")
	// ErrDenied: the caller is not authenticated, or lacks a permission;
	// the wrapping message names the missing permission where the host
	// says it.
	ErrDenied = errors.New("not authenticated or not permitted")
	// ErrLimit: a quota or a hard limit of the host was reached (the
	// version cap, the file count, a file's size).
	ErrLimit = errors.New("quota or limit reached")
	// ErrTransient: the host could not be reached or failed after the
	// retries allowed; the same command may succeed later.
	ErrTransient = errors.New("temporary failure")
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

// LockLostError reports that a deploy's lock is no longer its own: it was
// not renewed within its lease (the deploy was stopped, or cut off from the
// host) and another deploy took it, or it was broken.
type LockLostError struct {
	Key LockKey
	// Owner holds the lock now; nil when no one does (it was broken or
	// released).
	Owner *Owner
}

func (e *LockLostError) Error() string {
	what := fmt.Sprintf("the deploy lock of version %s of service %s of app %s", e.Key.Version, e.Key.Service, e.Key.App)
	if o := e.Owner; o != nil {
		return fmt.Sprintf("%s passed to %s@%s (pid %d) at %s, while this deploy was stopped or cut off for longer than the lock's lease",
			what, o.User, o.Host, o.PID, o.Acquired.UTC().Format(time.RFC3339))
	}
	return what + " was broken (appcfg rollback) while this deploy was stopped or cut off for longer than the lock's lease"
}

// Unwrap lets errors.Is(err, ErrLockLost) match.
func (e *LockLostError) Unwrap() error { return ErrLockLost }

// As returns b as the capability C, or an error wrapping ErrUnsupported that
// names the backend and the capability.
func As[C any](b Backend, capability string) (C, error) {
	if c, ok := b.(C); ok {
		return c, nil
	}
	var zero C
	return zero, fmt.Errorf("backend %s does not support %s: %w", b.Location(), capability, ErrUnsupported)
}

// Classify returns err marked with the failure class (ErrConflict,
// ErrDenied, ErrLimit, ErrTransient): its message is err's, and errors.Is
// matches both err's chain and class. A nil err stays nil.
func Classify(err, class error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, class: class}
}

type classified struct{ err, class error }

func (e *classified) Error() string   { return e.err.Error() }
func (e *classified) Unwrap() []error { return []error{e.err, e.class} }

// AsDeployer returns b's Deployer, or an error wrapping ErrUnsupported
// saying that b cannot deploy versions and where they can go: every command
// that deploys refuses such a backend with these words, before it reads a
// file.
func AsDeployer(b Backend) (Deployer, error) {
	if d, ok := b.(Deployer); ok {
		return d, nil
	}
	return nil, fmt.Errorf("backend %s cannot deploy versions; deploy to a host of versions (--backend local or appengine://PROJECT): %w", b.Location(), ErrUnsupported)
}
