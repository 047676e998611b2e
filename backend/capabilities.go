package backend

import (
	"context"
	"io"
	"time"
)

// Versions is the capability to list and manage deployed versions and the
// traffic split between them.
type Versions interface {
	// ListVersions lists the versions of app, of every service when
	// service is "", sorted by service then version id.
	ListVersions(ctx context.Context, app, service string) ([]Version, error)

	// Version returns one version, or an error wrapping ErrNotFound.
	Version(ctx context.Context, app, service, version string) (Version, error)

	// SetTraffic routes the service's traffic: split maps version ids to
	// shares that must each be in (0, 1] and sum to 1 (within 1e-9). Every
	// version named must exist (ErrNotFound). Versions not named get no
	// traffic. migrate asks for a gradual move where the host can do one;
	// hosts that cannot move traffic at once instead. Idempotent.
	SetTraffic(ctx context.Context, app, service string, split map[string]float64, migrate bool) error

	// SetServingStatus starts or stops a version. Idempotent.
	SetServingStatus(ctx context.Context, app, service, version string, status ServingStatus) error

	// DeleteVersion deletes a version and its manifest. A version that
	// still receives traffic is refused with an error wrapping
	// ErrVersionServing. Deleting a missing version returns ErrNotFound.
	DeleteVersion(ctx context.Context, app, service, version string) error
}

// LockKey names what a deploy locks: one version of one service.
type LockKey struct {
	App, Service, Version string
}

// Owner says who holds a lock, for the message another user reads.
type Owner struct {
	User     string
	Host     string
	PID      int
	Acquired time.Time
	Expires  time.Time
}

// Locker is the capability to lock a version while it is deployed, so two
// deploys of the same version never interleave.
//
// Locks are leases: a lock not renewed before Expires is free again, so a
// crashed deploy never blocks the next one for longer than one lease.
type Locker interface {
	// AcquireLock takes the lock for key on behalf of owner for lease. If
	// another unexpired holder has it, it returns a *LockedError naming that
	// holder. The returned token identifies this holding in RenewLock and
	// ReleaseLock.
	AcquireLock(ctx context.Context, key LockKey, owner Owner, lease time.Duration) (token string, err error)

	// RenewLock extends a held lock by lease from now. If the lock expired
	// and was taken by someone else, or was broken, it returns an error
	// wrapping ErrLockLost (a *LockLostError naming the new holder where
	// the host knows it).
	RenewLock(ctx context.Context, key LockKey, token string, lease time.Duration) error

	// ReleaseLock frees a lock held with token. Releasing a lock that is no
	// longer held by token is not an error. Idempotent.
	ReleaseLock(ctx context.Context, key LockKey, token string) error

	// BreakLock frees the lock whoever holds it and returns the owner it
	// had, or nil when it was free (or expired).
	BreakLock(ctx context.Context, key LockKey) (*Owner, error)
}

// ConfigKind is a per-application configuration the host keeps apart from
// versions.
type ConfigKind string

// The configuration kinds.
const (
	ConfigCron     ConfigKind = "cron"
	ConfigQueue    ConfigKind = "queue"
	ConfigDispatch ConfigKind = "dispatch"
	ConfigDOS      ConfigKind = "dos"
)

// ConfigStore is the capability to store an application's cron, queue,
// dispatch and DoS configuration.
type ConfigStore interface {
	// PutConfig replaces the app's configuration of that kind with doc, a
	// YAML document the caller has validated. Idempotent.
	PutConfig(ctx context.Context, app string, kind ConfigKind, doc []byte) error

	// Config returns the stored document, or an error wrapping ErrNotFound.
	Config(ctx context.Context, app string, kind ConfigKind) ([]byte, error)
}

// IndexProperty is one property of a composite index.
type IndexProperty struct {
	Name      string
	Direction string // "asc" or "desc"
}

// IndexDef defines a composite index. Two definitions are the same index
// when Kind, Ancestor and Properties (in order) are equal.
type IndexDef struct {
	Kind       string
	Ancestor   bool
	Properties []IndexProperty
}

// IndexState is the lifecycle state of an index on the host.
type IndexState string

// Index states.
const (
	IndexBuilding IndexState = "BUILDING"
	IndexServing  IndexState = "SERVING"
	IndexDeleting IndexState = "DELETING"
	IndexError    IndexState = "ERROR"
)

// Index is an index as the host reports it.
type Index struct {
	ID    string
	Def   IndexDef
	State IndexState
}

// IndexManager is the capability to manage composite indexes.
type IndexManager interface {
	// ListIndexes returns the app's indexes, ordered by ID.
	ListIndexes(ctx context.Context, app string) ([]Index, error)

	// CreateIndexes adds each definition the host lacks and returns the
	// index of every definition given, in order, with its state. It never
	// deletes. Idempotent.
	CreateIndexes(ctx context.Context, app string, defs []IndexDef) ([]Index, error)

	// DeleteIndex deletes the index with that ID (ErrNotFound if none).
	DeleteIndex(ctx context.Context, app, id string) error
}

// Contents is the capability to read back what was deployed: a version's
// manifest and the blobs it names. Hosts that serve versions, and checks that
// a deploy is complete, use it.
type Contents interface {
	// Manifest returns the spec a version was created from, its files
	// sorted by path; ErrNotFound when the version does not exist.
	Manifest(ctx context.Context, app, service, version string) (VersionSpec, error)

	// OpenBlob opens the content with that digest; ErrNotFound when the
	// host lacks it. The caller closes it.
	OpenBlob(ctx context.Context, app, digest string) (io.ReadCloser, error)
}

// Preflight is implemented by a host that can tell, before anything is
// uploaded, that it will refuse a version or a companion configuration, so
// a deploy stops (or drops the companion with a warning) before the first
// byte moves instead of after the version exists.
type Preflight interface {
	// CheckVersion returns an error, saying what to use instead, when the
	// host will not create a version of this configuration. spec has no
	// Files yet.
	CheckVersion(spec VersionSpec) error

	// CheckConfig returns an error wrapping ErrUnsupported, naming what
	// replaced it, when the host does not take configurations of kind.
	CheckConfig(kind ConfigKind) error
}
