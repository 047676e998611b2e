package backend

import (
	"context"
	"io"
	"time"

	"github.com/appcfg/appcfg/internal/appmodel"
)

// Backend is the required part of every hosting backend: what the
// entities-only datastore backend does as well as a host of versions.
// Deploying versions is the optional [Deployer] capability.
//
// Its methods and those of every capability must be safe for concurrent use
// by several goroutines, and a backend must stay consistent when several
// appcfg processes use the same host at once. Every method that takes a
// context honours it: when it is cancelled the method returns promptly with
// an error wrapping ctx.Err(), and any change it made is either complete or
// absent.
type Backend interface {
	// Location returns the location string the backend was opened with,
	// with any secret removed, for messages.
	Location() string

	// Properties describes the backend to callers that tune their work.
	Properties() Properties

	// Close releases the backend's resources. Other methods must not be
	// called after Close.
	Close() error
}

// Deployer is the capability to deploy versions: content addressed blobs
// and versions made from them. A host that serves applications (local,
// appengine) has it; one that only stores entities (datastore) does not.
// Callers reach it with [AsDeployer].
type Deployer interface {
	// MissingBlobs returns, in the order given, the digests among digests
	// whose content the host does not hold for app. Digests are lowercase hex
	// SHA-1. A digest the host holds but is about to discard counts as
	// missing. MissingBlobs has no effect on the host.
	MissingBlobs(ctx context.Context, app string, digests []string) ([]string, error)

	// PutBlob stores size bytes read from r as the blob with the given
	// digest for app. The backend verifies the content: a digest or size
	// mismatch returns an error wrapping ErrDigestMismatch and stores
	// nothing. PutBlob is idempotent: storing a blob the host already holds
	// succeeds. A blob is confirmed (durable, and no longer reported by
	// MissingBlobs) when PutBlob returns nil, or, for a backend that is also
	// a BlobSyncer, when a later SyncBlobs returns nil. A confirmed blob is
	// never sent again by an interrupted deploy's successor.
	PutBlob(ctx context.Context, app, digest string, size int64, r io.Reader) error

	// CreateVersion creates or replaces the version spec names from its
	// manifest and returns once the version is ready to serve (it does not
	// route traffic to it; see Versions.SetTraffic). Every blob of the
	// manifest must already be on the host; otherwise it returns a
	// *MissingBlobsError listing them and changes nothing. Replacing a
	// version keeps its traffic share.
	CreateVersion(ctx context.Context, spec VersionSpec) (Version, error)
}

// Properties describes a backend.
type Properties struct {
	// Connections is how many blob uploads the backend handles well at
	// once; callers use it to size their worker pools.
	Connections int
	// MaxBlobSize is the largest blob the host accepts, 0 for the
	// App Engine limit of 32,000,000 bytes per file.
	MaxBlobSize int64
	// MaxVersionSize is the most bytes one version may hold, 0 for no
	// limit.
	MaxVersionSize int64
	// MaxVersions is the most versions an application may hold, all
	// services together, 0 for no limit (App Engine:
	// MaxVersionsPerApp). A deploy counts them before sending anything.
	MaxVersions int
	// Local is set for a host on this machine, with no network or quota
	// between: the remote_api-era rate limits of bulk loads (20 entities
	// a second …) only slow it down, so they apply only when asked for.
	Local bool
}

// FileRef is one file of a version's manifest.
type FileRef struct {
	Path     string // slash-separated, relative to the app root
	SHA1     string // lowercase hex
	Size     int64
	MimeType string // optional; "" lets the host guess
}

// VersionSpec is what a deploy asks the host to create.
type VersionSpec struct {
	App     string
	Service string // "default" for the default service
	Version string
	Runtime string
	// Model is the service's configuration as deployed: its yaml file
	// parsed, includes and builtins merged, as validate checked it. A
	// deploy hands it to CreateVersion (and Preflight.CheckVersion) as it
	// is: a host converts it to what it keeps, never re-parsing YAML. nil
	// in a spec read back with Contents.Manifest.
	Model *appmodel.App
	// Config is the configuration as a host that keeps it stored it (the
	// local store serialises Model as YAML), returned by
	// Contents.Manifest so a version can be served or downloaded;
	// CreateVersion does not read it.
	Config []byte
	Files  []FileRef
}

// Version is a deployed version as the host reports it.
type Version struct {
	App           string        `json:"app"`
	Service       string        `json:"service"`
	ID            string        `json:"id"`
	Runtime       string        `json:"runtime"`
	Created       time.Time     `json:"created"`
	Deployer      string        `json:"deployer,omitempty"` // who created it, as the host knows them
	Files         int           `json:"files"`
	Bytes         int64         `json:"bytes"`
	ServingStatus ServingStatus `json:"serving_status"`
	// Traffic is the share of the service's traffic routed to the
	// version, in [0, 1].
	Traffic float64 `json:"traffic"`
	// URL is where the host serves the version itself, as the host says
	// it (App Engine's versionUrl); "" when the host does not say.
	URL string `json:"url,omitempty"`
}

// ServingStatus says whether a version may serve.
type ServingStatus string

// Serving statuses.
const (
	Serving ServingStatus = "SERVING"
	Stopped ServingStatus = "STOPPED"
)

// BlobSyncer is implemented by backends that confirm blobs in batches:
// making many small files durable one by one costs a disk flush each, while
// one flush covers a batch. Callers of PutBlob on such a backend call
// SyncBlobs before CreateVersion, and from time to time during a long
// upload so that an interruption loses little.
type BlobSyncer interface {
	// SyncBlobs makes every blob stored by this Backend's PutBlob calls
	// that returned before SyncBlobs was called durable and confirmed.
	SyncBlobs(ctx context.Context) error
}

// BlobIngester is implemented by backends that can store a content whose
// digest they compute themselves as they read it (a BlobSyncer confirms
// the ingested blobs in batches; another one confirms each as it stores it). A deploy
// whose files are all new to the host then reads each file once, hashing
// it while the host copies it, instead of hashing every file first and
// reading it again to send it.
type BlobIngester interface {
	// IngestsFor reports whether ingesting app's files is worth it: true
	// when the host holds no content for app yet (its first deploy), so
	// that no file read is a copy the host did not need.
	IngestsFor(ctx context.Context, app string) (bool, error)

	// IngestBlob reads r to its end and stores what it read as a blob for
	// app, returning its digest (lowercase hex SHA-1). A content that is
	// not size bytes long is refused with an error wrapping
	// ErrDigestMismatch and stores nothing. The blob is confirmed as a
	// PutBlob's is: by the next SyncBlobs.
	IngestBlob(ctx context.Context, app string, size int64, r io.Reader) (string, error)
}
