package local

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// CollectBlobs implements backend.BlobCollector. A blob of app is unused
// when no manifest of any of app's versions names it. Deploys in flight are
// safe by their locks, read in the same transaction:
//
//   - while a deploy of the app holds an unexpired lock, none of the app's
//     unused blobs is collected: the deploy may have sent some and been told
//     the host holds others, all for the version it has not created yet;
//   - a lock that expired but was never released (a killed deploy) pins the
//     blobs stored since it was taken, so running the update again resumes
//     rather than sends everything again.
//
// Rows go and files are removed in one transaction holding the store's
// write lock, the lock a blob's record needs too: a PutBlob racing with the
// collection either sees its file gone and writes it again, or fails its
// record with a message (see flush), never records a removed file. A file
// is removed only when no app has a record of it left.
func (b *Backend) CollectBlobs(ctx context.Context, app string) (backend.Collected, error) {
	var c backend.Collected
	if app != "" {
		if err := checkName("application id", app); err != nil {
			return c, err
		}
	}
	var trash []trashed
	err := b.update(ctx, "collecting unused blobs", func(tx *sql.Tx) error {
		unused, err := unusedBlobs(ctx, tx, app)
		if err != nil {
			return err
		}
		pins, err := lockPins(ctx, tx, b.now().UnixNano())
		if err != nil {
			return err
		}
		kept := map[string]bool{}
		var gone []blobRow
		for _, u := range unused {
			if p, ok := pins[u.app]; ok && (p.all || u.stored >= p.since) {
				c.Kept++
				kept[u.app] = true
				continue
			}
			gone = append(gone, u)
		}
		for a := range kept {
			c.KeptFor = append(c.KeptFor, a)
		}
		sort.Strings(c.KeptFor)
		trash, err = b.forget(ctx, tx, gone, &c)
		return err
	})
	if err != nil {
		restore(trash)
		return backend.Collected{}, err
	}
	empty(trash)
	return c, nil
}

// blobRow is one blob record.
type blobRow struct {
	appID  int64
	app    string
	digest string
	size   int64
	stored int64
	// key is the digest as the database holds it, which names the
	// record to delete even when it is damaged (stored as a BLOB).
	key any
	// damage says what is wrong with the record (recordDamage), or is ""
	// for a sound one. A damaged record names no file.
	damage string
}

// unusedBlobs returns the records of app's (or every app's) blobs that no
// manifest of the same app names.
func unusedBlobs(ctx context.Context, tx *sql.Tx, app string) ([]blobRow, error) {
	used := map[blobKey]bool{}
	rows, err := tx.QueryContext(ctx, `
SELECT DISTINCT s.app_id, m.sha1 FROM manifests m
JOIN versions v ON v.id = m.version_id
JOIN services s ON s.id = v.service_id`)
	if err != nil {
		return nil, dbErr(ctx, "reading the manifests", err)
	}
	for rows.Next() {
		var k blobKey
		if err := rows.Scan(&k.appID, &k.digest); err != nil {
			rows.Close()
			return nil, dbErr(ctx, "reading the manifests", err)
		}
		used[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "reading the manifests", err)
	}
	all, err := allBlobRows(ctx, tx, app)
	if err != nil {
		return nil, err
	}
	var unused []blobRow
	for _, r := range all {
		if !used[blobKey{r.appID, r.digest}] {
			unused = append(unused, r)
		}
	}
	return unused, nil
}

type blobKey struct {
	appID  int64
	digest string
}

// allBlobRows returns the blob records of app, or of every app when app is "".
func allBlobRows(ctx context.Context, q queryer, app string) ([]blobRow, error) {
	rows, err := q.QueryContext(ctx, `
SELECT b.app_id, a.name, b.sha1, b.size, b.stored FROM blobs b JOIN apps a ON a.id = b.app_id
WHERE ? = '' OR a.name = ? ORDER BY b.sha1, a.name`, app, app)
	if err != nil {
		return nil, dbErr(ctx, "reading the blob records", err)
	}
	defer rows.Close()
	var out []blobRow
	for rows.Next() {
		// Digest and size as the database holds them, whatever their
		// type: a damaged record is reported, not a failed read.
		var r blobRow
		var size any
		if err := rows.Scan(&r.appID, &r.app, &r.key, &size, &r.stored); err != nil {
			return nil, dbErr(ctx, "reading the blob records", err)
		}
		r.digest, r.size, r.damage = recordDamage(r.key, size)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "reading the blob records", err)
	}
	return out, nil
}

// pin says which unused blobs of an app a lock keeps: all of them, or those
// stored since a time.
type pin struct {
	all   bool
	since int64
}

// lockPins reads the locks into pins by app name (see CollectBlobs).
func lockPins(ctx context.Context, tx *sql.Tx, now int64) (map[string]pin, error) {
	rows, err := tx.QueryContext(ctx, `SELECT app, acquired, expires FROM locks`)
	if err != nil {
		return nil, dbErr(ctx, "reading the deploy locks", err)
	}
	defer rows.Close()
	pins := map[string]pin{}
	for rows.Next() {
		var app string
		var acquired, expires int64
		if err := rows.Scan(&app, &acquired, &expires); err != nil {
			return nil, dbErr(ctx, "reading the deploy locks", err)
		}
		p, seen := pins[app]
		switch {
		case expires > now:
			p.all = true
		case !seen || acquired < p.since:
			p.since = acquired
		}
		pins[app] = p
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "reading the deploy locks", err)
	}
	return pins, nil
}

// trashed is a blob file moved aside inside a transaction: removed for good
// once the transaction commits, put back if it does not.
type trashed struct{ from, to string }

// forget deletes the records gone and moves aside the files no record names
// any more, counting them in c. It runs inside tx, which holds the write
// lock.
func (b *Backend) forget(ctx context.Context, tx *sql.Tx, gone []blobRow, c *backend.Collected) ([]trashed, error) {
	var trash []trashed
	digests := map[string]bool{}
	for _, g := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE app_id = ? AND sha1 = ?`, g.appID, g.key); err != nil {
			return trash, dbErr(ctx, "forgetting blob "+g.digest, err)
		}
		c.Blobs++
		digests[g.digest] = true
	}
	for d := range digests {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM blobs WHERE sha1 = ? LIMIT 1`, d).Scan(&one)
		if err == nil {
			continue // another app still holds it
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return trash, dbErr(ctx, "looking up blob "+d, err)
		}
		t, size, err := b.moveAside(d)
		if err != nil {
			return trash, err
		}
		if t.to != "" {
			trash = append(trash, t)
			c.Files++
			c.Bytes += size
		}
	}
	return trash, nil
}

// moveAside renames a blob's file to a temporary name in its directory (so
// a crash before empty leaves a file the sweep removes) and returns its
// size. A file already gone moves nothing, and so does a damaged digest:
// it names no blob file, and as a path it could lead out of the store.
func (b *Backend) moveAside(digest string) (trashed, int64, error) {
	if !isDigest(digest) {
		return trashed{}, 0, nil
	}
	from := b.blobPath(digest)
	fi, err := os.Lstat(from)
	if os.IsNotExist(err) {
		return trashed{}, 0, nil
	}
	if err != nil {
		return trashed{}, 0, fmt.Errorf("removing blob %s: %w", digest, err)
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return trashed{}, 0, fmt.Errorf("removing blob %s: %w", digest, err)
	}
	to := filepath.Join(filepath.Dir(from), tmpPrefix+"gc-"+digest[2:]+"-"+hex.EncodeToString(r[:]))
	if err := os.Rename(from, to); err != nil {
		return trashed{}, 0, fmt.Errorf("removing blob %s: %w", digest, err)
	}
	// Fresh, so no sweep by another process takes it before the
	// transaction decides.
	now := time.Now()
	os.Chtimes(to, now, now)
	return trashed{from: from, to: to}, fi.Size(), nil
}

// empty removes moved-aside files for good.
func empty(trash []trashed) {
	for _, t := range trash {
		os.Remove(t.to)
	}
}

// restore puts moved-aside files back after a transaction failed.
func restore(trash []trashed) {
	for _, t := range trash {
		os.Rename(t.to, t.from)
	}
}
