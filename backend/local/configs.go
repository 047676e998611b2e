package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/appcfg/appcfg/backend"
)

// checkKind refuses a configuration kind the contract does not define.
func checkKind(kind backend.ConfigKind) error {
	switch kind {
	case backend.ConfigCron, backend.ConfigQueue, backend.ConfigDispatch, backend.ConfigDOS:
		return nil
	}
	return fmt.Errorf("configuration kind %q is unknown: use cron, queue, dispatch or dos", kind)
}

// PutConfig replaces the app's configuration of that kind.
func (b *Backend) PutConfig(ctx context.Context, app string, kind backend.ConfigKind, doc []byte) error {
	if err := checkName("application id", app); err != nil {
		return err
	}
	if err := checkKind(kind); err != nil {
		return err
	}
	if doc == nil {
		doc = []byte{}
	}
	what := fmt.Sprintf("storing the %s configuration of app %s", kind, app)
	return b.update(ctx, what, func(tx *sql.Tx) error {
		appID, err := ensureApp(ctx, tx, app)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO configs (app_id, kind, doc, updated) VALUES (?, ?, ?, ?)
ON CONFLICT (app_id, kind) DO UPDATE SET doc = excluded.doc, updated = excluded.updated`,
			appID, string(kind), doc, b.now().UnixNano())
		if err != nil {
			return dbErr(ctx, what, err)
		}
		return nil
	})
}

// Config returns the stored document.
func (b *Backend) Config(ctx context.Context, app string, kind backend.ConfigKind) ([]byte, error) {
	what := fmt.Sprintf("reading the %s configuration of app %s", kind, app)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	var doc []byte
	err := b.db.QueryRowContext(ctx, `
SELECT c.doc FROM configs c JOIN apps a ON a.id = c.app_id WHERE a.name = ? AND c.kind = ?`,
		app, string(kind)).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("app %s has no %s configuration: %w", app, kind, backend.ErrNotFound)
	}
	if err != nil {
		return nil, dbErr(ctx, what, err)
	}
	return doc, nil
}
