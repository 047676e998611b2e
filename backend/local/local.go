package local

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/privfile"

	// The pure-Go SQLite driver registers itself as "sqlite"; no cgo.
	_ "modernc.org/sqlite"
)

// dbName is the database file inside a store's root.
const dbName = "appcfg.db"

// busyTimeout is how long a connection waits for another writer (in this
// process or another) before giving up with "database is locked". Writes are
// short, so a long wait means something is wrong.
const busyTimeout = 30 * time.Second

// Backend is a store in a local directory. It is safe for concurrent use, and
// several Backends (in one process or several) may use the same directory.
type Backend struct {
	location string
	root     string
	db       *sql.DB
	// exclusive: db was opened with exclusive locking (see openDB), so it
	// is the one connection the database admits.
	exclusive bool
	user      string
	now       func() time.Time
	commit    committer
	entities  entityCommitter
	logSync   logSyncer
	logApps   appIDCache // the apps request logs were written for
	prefetch  prefetcher // Prefetch's background checks of blob files
	// onStep, when set (by tests), hears each step of making blobs
	// durable, in order, and each chunk a log listing fetched.
	onStep func(step string)
}

// Factory opens local backends; see NewFactory.
type Factory struct{}

// NewFactory returns the factory for locations with the scheme "local".
func NewFactory() *Factory { return &Factory{} }

// Scheme is "local".
func (*Factory) Scheme() string { return "local" }

// Open opens the store a location names: "local" is env.DataDir, "local:PATH"
// is PATH.
func (*Factory) Open(ctx context.Context, location, rest string, env backend.Env) (backend.Backend, error) {
	cfg, err := ParseConfig(rest, env)
	if err != nil {
		return nil, err
	}
	return Open(ctx, location, cfg, env)
}

// Open opens (creating when needed) the store in cfg.Root. location is what
// Location reports; "" means "local:" followed by the root.
func Open(ctx context.Context, location string, cfg Config, env backend.Env) (*Backend, error) {
	if location == "" {
		location = "local:" + cfg.Root
	}
	if !filepath.IsAbs(cfg.Root) {
		return nil, fmt.Errorf("local store path %q is not absolute", cfg.Root)
	}
	if err := checkDatabaseFile(cfg.Root); err != nil {
		return nil, err
	}
	if err := privfile.MkdirAll(filepath.Join(cfg.Root, blobDir)); err != nil {
		return nil, fmt.Errorf("creating the local store: %w", err)
	}
	if err := privfile.SQLite(filepath.Join(cfg.Root, dbName)); err != nil {
		return nil, fmt.Errorf("creating the local store: %w", err)
	}
	db, exclusive, err := openDB(ctx, cfg.Root, false)
	if err != nil {
		return nil, err
	}
	b := &Backend{location: location, root: cfg.Root, db: db, exclusive: exclusive, user: env.User, now: time.Now}
	b.sweepTemp()
	return b, nil
}

// openDB opens and migrates the store's database. On a full disk, where
// SQLite cannot size the shared-memory index (-shm) every WAL reader
// needs, it opens it again with exclusive locking, which keeps that index in
// this process's memory: commands that only read (list_versions,
// request_logs, download_data …) keep working, one connection at a time,
// and writes fail with a *NoSpaceError. It reports whether it did.
func openDB(ctx context.Context, root string, exclusive bool) (*sql.DB, bool, error) {
	db, err := sql.Open("sqlite", dsn(filepath.Join(root, dbName), exclusive))
	if err != nil {
		return nil, false, fmt.Errorf("opening the local store's database: %w", err)
	}
	// Writers queue on SQLite's file lock; bounding the pool keeps a burst of
	// uploads from opening a connection each. With exclusive locking a
	// second connection would wait for the first's lock forever.
	conns := 2*runtime.NumCPU() + 4
	if exclusive {
		conns = 1
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		err = noSpaceIn("", root, err)
		var ns *NoSpaceError
		if !exclusive && errors.As(err, &ns) {
			return openDB(ctx, root, true)
		}
		return nil, false, fmt.Errorf("opening the local store in %s: %w", root, err)
	}
	return db, exclusive, nil
}

// step reports a step of making blobs durable to a test listening.
func (b *Backend) step(s string) {
	if b.onStep != nil {
		b.onStep(s)
	}
}

// dsn builds the driver's connection string. Every transaction begins
// IMMEDIATE: it takes the write lock up front, so a transaction never fails
// half-way when another process wrote since it started reading.
func dsn(path string, exclusive bool) string {
	q := url.Values{}
	if exclusive {
		// Before journal_mode=WAL (the driver applies _pragma first), so
		// the WAL index is kept in memory from the start.
		q.Set("_pragma", "locking_mode(EXCLUSIVE)")
	}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	// FULL: a commit is on disk when it returns, as SyncBlobs promises.
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Location returns the location the backend was opened with.
func (b *Backend) Location() string { return b.location }

// Root returns the store's directory.
func (b *Backend) Root() string { return b.root }

// Properties reports how many uploads to run at once. A local upload
// creates a file and copies into it, waiting on the file system more than on
// a core, so more of them than cores keeps the disk busy (measured when each
// upload also waited for its commit: on 16 KiB blobs, 16 at once stored them
// 2.2x as fast as 4; the commits now wait for SyncBlobs instead).
func (b *Backend) Properties() backend.Properties {
	return backend.Properties{Connections: max(16, 4*runtime.NumCPU()), Local: true}
}

// Close closes the database.
func (b *Backend) Close() error {
	b.stopPrefetch()
	b.commit.dropPending() // stored, never confirmed by SyncBlobs
	b.entities.wait()
	b.entities.closeStmts()
	syncErr := b.closeLogSync()
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("closing the local store in %s: %w", b.root, err)
	}
	return syncErr
}

// update runs fn in one IMMEDIATE transaction and commits it. Errors from fn
// are returned as they are; database errors are worded with what.
func (b *Backend) update(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	return b.updateOn(ctx, b.db, what, fn)
}

// updateUnsynced is update on a connection that commits without waiting
// for the disk (synchronous=NORMAL): the commit reaches SQLite's
// write-ahead log through the page cache, so it survives the process being
// killed, and reaches the disk with the next synced commit, the next
// checkpoint or writeLazily's background sync. Only for rows a power cut
// may lose without harm: request logs (see logSyncer) and deploy locks,
// whose holder a power cut stops too.
func (b *Backend) updateUnsynced(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return dbErr(ctx, what, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return dbErr(ctx, what, err)
	}
	err = b.updateOn(ctx, conn, what, fn)
	// The connection goes back to the pool, whose other users count on
	// FULL (a commit is on disk when it returns); if it cannot be reset,
	// it is dropped instead.
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); rerr != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // discards it
	}
	return err
}

// updateOn is update on db, a connection of b.db when its settings differ.
func (b *Backend) updateOn(ctx context.Context, db interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, what string, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return b.noSpace(what, dbErr(ctx, what, err))
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return b.noSpace(what, err)
	}
	if err := tx.Commit(); err != nil {
		return b.noSpace(what, dbErr(ctx, what, err))
	}
	return nil
}

// dbErr words a database error. When ctx ended, the driver's "interrupted"
// is replaced by ctx's error so callers can test for cancellation.
func dbErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	return fmt.Errorf("%s: %w", what, err)
}

// queryer is what *sql.DB and *sql.Tx share.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ensureApp returns the id of app, creating its row when needed.
func ensureApp(ctx context.Context, tx *sql.Tx, app string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, ensureAppSQL, app).Scan(&id)
	if err != nil {
		return 0, dbErr(ctx, "recording app "+app, err)
	}
	return id, nil
}

// ensureAppSQL returns the id of the app named by its argument, creating
// its row when needed.
const ensureAppSQL = `INSERT INTO apps (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`

// lookupApp returns the id of app, or an error wrapping ErrNotFound.
func lookupApp(ctx context.Context, q queryer, app string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM apps WHERE name = ?`, app).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("app %s: %w", app, backend.ErrNotFound)
	}
	if err != nil {
		return 0, dbErr(ctx, "looking up app "+app, err)
	}
	return id, nil
}

// checkName refuses an empty name or one with control characters, which no
// host accepts and which would garble messages.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("the %s is empty: give one", what)
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return fmt.Errorf("the %s %q contains a control character: use letters, digits and '-'", what, s)
	}
	return nil
}

// checkNames checks app, service and version names together.
func checkNames(app, service, version string) error {
	if err := checkName("application id", app); err != nil {
		return err
	}
	if err := checkName("service name", service); err != nil {
		return err
	}
	return checkName("version id", version)
}

// Compile-time checks of the capabilities the local backend claims.
var (
	_ backend.Factory        = (*Factory)(nil)
	_ backend.Backend        = (*Backend)(nil)
	_ backend.Deployer       = (*Backend)(nil)
	_ backend.BlobIngester   = (*Backend)(nil)
	_ backend.Versions       = (*Backend)(nil)
	_ backend.TrafficHistory = (*Backend)(nil)
	_ backend.VersionMatcher = (*Backend)(nil)
	_ backend.LiveChecker    = (*Backend)(nil)
	_ backend.Prefetcher     = (*Backend)(nil)
	_ backend.Locker         = (*Backend)(nil)
	_ backend.ConfigStore    = (*Backend)(nil)
	_ backend.IndexManager   = (*Backend)(nil)
	_ backend.Contents       = (*Backend)(nil)
)
