package local

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings a store from user_version i to i+1. Released entries
// never change; a new schema appends one.
var migrations = []migration{{sql: schemaV1}, {sql: schemaLogs}, {sql: schemaEntities}, entityKeysV2, {sql: schemaLogLines}, {sql: schemaLineFormats}, {sql: schemaTrafficHistory}, {sql: schemaLogChunkListing}, {sql: schemaLogSpools}}

// schemaTrafficHistory records each service's splits, so the previous
// default version is known (set_default_version --previous, and the
// version a clean-up keeps). Versions are named, not referenced: a split
// outlives the deletion of its versions.
const schemaTrafficHistory = `
CREATE TABLE traffic_history (
	id         INTEGER PRIMARY KEY,
	service_id INTEGER NOT NULL REFERENCES services(id),
	at         INTEGER NOT NULL,
	split      TEXT    NOT NULL
);
CREATE INDEX traffic_history_by_service ON traffic_history (service_id, id);
`

// migration is one schema step: SQL, then, for data SQL cannot convert, Go
// code in the same transaction.
type migration struct {
	sql  string
	code func(ctx context.Context, tx *sql.Tx) error
}

// schemaV1 is the first schema: apps, blobs, versions, traffic, locks,
// configs and indexes.
const schemaV1 = `
CREATE TABLE apps (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);
CREATE TABLE blobs (
	app_id INTEGER NOT NULL REFERENCES apps(id),
	sha1   TEXT    NOT NULL,
	size   INTEGER NOT NULL,
	stored INTEGER NOT NULL,
	PRIMARY KEY (app_id, sha1)
) WITHOUT ROWID;
CREATE INDEX blobs_by_sha1 ON blobs (sha1);
CREATE TABLE services (
	id     INTEGER PRIMARY KEY,
	app_id INTEGER NOT NULL REFERENCES apps(id),
	name   TEXT    NOT NULL,
	UNIQUE (app_id, name)
);
CREATE TABLE versions (
	id             INTEGER PRIMARY KEY,
	service_id     INTEGER NOT NULL REFERENCES services(id),
	name           TEXT    NOT NULL,
	runtime        TEXT    NOT NULL,
	created        INTEGER NOT NULL,
	deployer       TEXT    NOT NULL,
	config         BLOB    NOT NULL,
	serving_status TEXT    NOT NULL,
	files          INTEGER NOT NULL,
	manifest_sum   TEXT    NOT NULL DEFAULT '',
	bytes          INTEGER NOT NULL,
	UNIQUE (service_id, name)
);
CREATE TABLE manifests (
	version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
	path       TEXT    NOT NULL,
	sha1       TEXT    NOT NULL,
	size       INTEGER NOT NULL,
	mime       TEXT    NOT NULL,
	PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE TABLE traffic (
	service_id INTEGER NOT NULL REFERENCES services(id),
	version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE RESTRICT,
	share      REAL    NOT NULL CHECK (share > 0 AND share <= 1),
	PRIMARY KEY (service_id, version_id)
) WITHOUT ROWID;
CREATE TABLE locks (
	app        TEXT    NOT NULL,
	service    TEXT    NOT NULL,
	version    TEXT    NOT NULL,
	token      TEXT    NOT NULL,
	owner_user TEXT    NOT NULL,
	owner_host TEXT    NOT NULL,
	owner_pid  INTEGER NOT NULL,
	acquired   INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	PRIMARY KEY (app, service, version)
) WITHOUT ROWID;
CREATE TABLE configs (
	app_id  INTEGER NOT NULL REFERENCES apps(id),
	kind    TEXT    NOT NULL,
	doc     BLOB    NOT NULL,
	updated INTEGER NOT NULL,
	PRIMARY KEY (app_id, kind)
) WITHOUT ROWID;
CREATE TABLE indexes (
	app_id     INTEGER NOT NULL REFERENCES apps(id),
	id         TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	ancestor   INTEGER NOT NULL,
	properties TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	PRIMARY KEY (app_id, id)
) WITHOUT ROWID;
`

// migrate brings the database to the newest schema. It runs in one IMMEDIATE
// transaction, so two processes opening a new store at once create it once.
func migrate(ctx context.Context, db *sql.DB) error {
	// A current store, the usual case, needs no write lock: a read says so.
	// Anything else (older, newer, unreadable) takes the transaction below,
	// which reads the version again under the lock and words any error.
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err == nil && have == len(migrations) {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading the store's schema version: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("reading the store's schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("the store has schema version %d but this appcfg knows only up to %d: upgrade appcfg, or use another store with --backend local:PATH", have, len(migrations))
	}
	for v := have; v < len(migrations); v++ {
		m := migrations[v]
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("upgrading the store to schema version %d: %w", v+1, err)
		}
		if m.code != nil {
			if err := m.code(ctx, tx); err != nil {
				return fmt.Errorf("upgrading the store to schema version %d: %w", v+1, err)
			}
		}
	}
	if have == len(migrations) {
		return nil
	}
	// PRAGMA takes no bound parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("recording schema version %d: %w", len(migrations), err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("upgrading the store's schema: %w", err)
	}
	return nil
}
