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

// Prefetcher is implemented by a host whose MissingBlobs is cheaper when it
// starts early: a deploy calls Prefetch before it hashes the files, so the
// host reads what it holds while the caller works, and MissingBlobs later
// answers from that reading. A backend that gains nothing from starting
// early does not implement it.
type Prefetcher interface {
	// Prefetch starts, in the background, what MissingBlobs(ctx, app, …)
	// will need. It returns at once and never fails: a reading that fails
	// or is not done is simply done again by MissingBlobs. Work it starts
	// ends when ctx ends or the backend is closed, whichever is first. A
	// second call for app while the first's reading is unused does
	// nothing, so a caller may start it as early as it knows the app.
	Prefetch(ctx context.Context, app string)
}

// BlobCollector is the capability to remove the blobs no version uses, so a
// host that sees daily deploys does not grow without bound.
type BlobCollector interface {
	// CollectBlobs removes the blobs of app (of every app when app is "")
	// that no version of that app names, and reports what it freed. It
	// never removes a blob a deploy in flight may still name in the
	// version it is about to create: how a host knows those is its own
	// rule (the local store keeps every blob of an app while a deploy of
	// it holds an unexpired lock). Safe to run at any time.
	CollectBlobs(ctx context.Context, app string) (Collected, error)
}

// Collected is what a collection freed.
type Collected struct {
	Blobs int   `json:"blobs"` // blob records removed
	Files int   `json:"files"` // stored files removed (one content kept for several apps is one file)
	Bytes int64 `json:"bytes"` // their size
	// Kept counts the unused blobs kept for a deploy in flight, and
	// KeptFor names those deploys' apps.
	Kept    int      `json:"kept"`
	KeptFor []string `json:"kept_for,omitempty"`
}

// StoreVerifier is the capability to check everything a host holds: every
// blob against its digest and size, every record against the content it
// names. The local store has it; remote hosts check their own storage.
type StoreVerifier interface {
	// VerifyStore checks the whole store and reports by version. With
	// opts.Repair it forgets every bad blob (its records and its file), so
	// the next deploy that needs it sends it again; with opts.Collect it
	// also collects unused blobs and stray files (see BlobCollector).
	// Problems found are the report's, not an error: the error is for a
	// check that could not run.
	VerifyStore(ctx context.Context, opts VerifyOptions) (*StoreReport, error)
}

// VerifyOptions tune VerifyStore.
type VerifyOptions struct {
	Repair  bool
	Collect bool
	// Progress, when set, hears how many of the blobs' bytes were checked.
	Progress func(doneBytes, totalBytes int64)
}

// StoreReportSchema names the layout of StoreReport as JSON; it changes
// when a field changes meaning or goes away.
const StoreReportSchema = "appcfg-verify/1"

// StoreReport is what VerifyStore found (and did).
type StoreReport struct {
	Schema string `json:"schema"` // StoreReportSchema
	Store  string `json:"store"`  // the location checked
	Blobs  int    `json:"blobs"`  // distinct contents checked
	Bytes  int64  `json:"bytes"`  // their recorded size
	Files  int    `json:"files"`  // manifest entries (files of versions) checked
	// Problems lists every damaged content or record, each once.
	Problems []StoreProblem `json:"problems"`
	// Versions lists the versions that cannot be served whole, with the
	// files concerned.
	Versions []DamagedVersion `json:"versions"`
	// Unused blobs (no version names them), unrecorded files (content no
	// record names) and temporary files are not damage; Collect frees them.
	UnusedBlobs     int   `json:"unused_blobs"`
	UnusedBytes     int64 `json:"unused_bytes"`
	UnrecordedFiles int   `json:"unrecorded_files"`
	TempFiles       int   `json:"temp_files"`
	// Repaired counts the bad blobs forgotten (VerifyOptions.Repair).
	Repaired int `json:"repaired"`
	// Collected is what Collect freed; nil without it.
	Collected *Collected `json:"collected,omitempty"`
}

// The kinds of StoreProblem.
const (
	ProblemMissing    = "missing"    // the content's file is gone
	ProblemSize       = "size"       // the file's size is not the recorded one
	ProblemContent    = "content"    // the file's SHA-1 is not its name
	ProblemUnreadable = "unreadable" // the file cannot be read
	ProblemUnrecorded = "unrecorded" // a version names content its app has no record of
	ProblemDatabase   = "database"   // the database's own integrity check failed
	// ProblemRecord: a content's record is damaged (its digest is not 40
	// lowercase hex digits, or its size not a number of bytes); it names
	// no file, and --repair forgets it.
	ProblemRecord = "record"
)

// StoreProblem is one damaged content or record.
type StoreProblem struct {
	Kind   string   `json:"kind"`
	SHA1   string   `json:"sha1,omitempty"`
	Apps   []string `json:"apps,omitempty"` // the apps that hold (or name) the content
	Detail string   `json:"detail"`
	// Repaired: the bad content was forgotten; the next deploy of a
	// version that names it sends it again.
	Repaired bool `json:"repaired"`
}

// DamagedVersion is a version with files that cannot be served.
type DamagedVersion struct {
	App     string        `json:"app"`
	Service string        `json:"service"`
	Version string        `json:"version"`
	Files   []DamagedFile `json:"files"`
}

// DamagedFile is one file of a DamagedVersion and the kind of its problem.
type DamagedFile struct {
	Path string `json:"path"`
	SHA1 string `json:"sha1"`
	Kind string `json:"kind"`
}

// RuntimeInfo is a runtime's lifecycle as the host reports it. A zero date
// is unknown.
type RuntimeInfo struct {
	Name           string
	Stage          string // the host's word: GA, END_OF_SUPPORT, DEPRECATED …
	EndOfSupport   time.Time
	Deprecated     time.Time
	Decommissioned time.Time
}

// RuntimeLister is implemented by hosts that retire runtimes (App Engine):
// a deploy checks the app's runtime against the dates before sending
// anything. Hosts that run every runtime (the local one) do not implement
// it.
type RuntimeLister interface {
	// ListRuntimes returns the runtimes the host knows for app's
	// standard environment, with their dates.
	ListRuntimes(ctx context.Context, app string) ([]RuntimeInfo, error)
}

// VersionMatcher is implemented by hosts that can tell whether a deployed
// version already holds exactly what a spec would create: an unchanged
// redeploy then creates nothing (on App Engine, no build).
type VersionMatcher interface {
	// SameVersion reports whether spec's version exists with the same
	// manifest (paths and digests), runtime and configuration. A missing
	// version is not the same (false, nil).
	SameVersion(ctx context.Context, spec VersionSpec) (bool, error)
}

// LiveChecker is implemented by hosts that can tell, in one consistent
// read that writes nothing, that a deploy would change nothing at all: an
// unchanged redeploy then takes no lock and writes nothing (on the local
// store, no transaction and no fsync).
type LiveChecker interface {
	// LiveAsIs returns the version as the host holds it, and true, when
	// all of this held at one moment: spec's version exists with the same
	// manifest, runtime and configuration (as SameVersion says); it is not
	// stopped; every content its manifest names is held as MissingBlobs
	// checks it; no deploy holds or left the version's lock; and, when
	// promote, it has all of its service's traffic. Anything else, or a
	// host that cannot tell, is false: the deploy then runs as usual.
	LiveAsIs(ctx context.Context, spec VersionSpec, promote bool) (Version, bool, error)
}
