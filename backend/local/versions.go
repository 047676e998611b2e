package local

import (
	"bytes"
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/backend"
)

// CreateVersion records the version and its manifest in one transaction,
// after checking that every blob it names is held. A local version needs no
// build, so it is ready when the transaction commits. A replaced version keeps
// its traffic share and is started.
func (b *Backend) CreateVersion(ctx context.Context, spec backend.VersionSpec) (backend.Version, error) {
	if err := checkNames(spec.App, spec.Service, spec.Version); err != nil {
		return backend.Version{}, err
	}
	digests, bytes, err := checkManifest(spec)
	if err != nil {
		return backend.Version{}, err
	}
	// Blobs stored and not yet confirmed are confirmed now: a caller that
	// reaches this backend through a wrapper hiding SyncBlobs still
	// creates its version from what it sent.
	if err := b.SyncBlobs(ctx); err != nil {
		return backend.Version{}, err
	}
	config, err := storedConfig(spec)
	if err != nil {
		return backend.Version{}, err
	}
	what := fmt.Sprintf("creating version %s of service %s", spec.Version, spec.Service)
	sum := manifestSum(spec.Files)
	var v backend.Version
	err = b.updateVersions(ctx, what, func(tx *sql.Tx) error {
		// An unchanged redeploy names the manifest the version already has,
		// whose blobs were checked when it was written and are never
		// deleted: it skips both the blob check and the rewrite.
		same := false
		if _, id, err := versionIDs(ctx, tx, spec.App, spec.Service, spec.Version); err == nil {
			var stored string
			if err := tx.QueryRowContext(ctx, `SELECT manifest_sum FROM versions WHERE id = ?`, id).Scan(&stored); err != nil {
				return dbErr(ctx, "reading version "+spec.Version, err)
			}
			same = stored == sum
		} else if !errors.Is(err, backend.ErrNotFound) {
			return err
		}
		if !same {
			// The records alone: a blob is recorded only once its file is
			// in place, and MissingBlobs, which the deploy just ran, trusts
			// the same records.
			held, err := recordedBlobs(ctx, tx, spec.App, digests)
			if err != nil {
				return err
			}
			if err := checkHeld(spec, digests, held); err != nil {
				return err
			}
		}
		versionID, err := b.upsertVersion(ctx, tx, spec, config, bytes, sum)
		if err != nil {
			return err
		}
		if !same {
			if err := replaceManifest(ctx, tx, versionID, spec.Files); err != nil {
				return err
			}
		}
		v, err = readVersion(ctx, tx, spec.App, spec.Service, spec.Version)
		return err
	})
	return v, err
}

// storedConfig is the configuration the store keeps with the version: the
// model serialised as YAML, which Manifest hands back so that serve can
// route requests and download_app can write the app out.
func storedConfig(spec backend.VersionSpec) ([]byte, error) {
	if spec.Model == nil {
		return []byte{}, nil
	}
	config, err := yaml.Marshal(spec.Model)
	if err != nil {
		return nil, fmt.Errorf("recording the configuration of version %s: %w", spec.Version, err)
	}
	return config, nil
}

// checkManifest refuses a malformed manifest and returns its distinct
// digests, in order of first use, and its total size.
func checkManifest(spec backend.VersionSpec) (digests []string, bytes int64, err error) {
	seenPath := make(map[string]bool, len(spec.Files))
	seenDigest := make(map[string]bool, len(spec.Files))
	for _, f := range spec.Files {
		if f.Path == "" {
			return nil, 0, fmt.Errorf("the manifest of version %s lists a file with an empty path", spec.Version)
		}
		if seenPath[f.Path] {
			return nil, 0, fmt.Errorf("the manifest of version %s lists %s twice: list each file once", spec.Version, f.Path)
		}
		seenPath[f.Path] = true
		if err := checkDigest(f.SHA1); err != nil {
			return nil, 0, fmt.Errorf("manifest file %s: %w", f.Path, err)
		}
		if f.Size < 0 {
			return nil, 0, fmt.Errorf("manifest file %s: negative size %d", f.Path, f.Size)
		}
		bytes += f.Size
		if !seenDigest[f.SHA1] {
			seenDigest[f.SHA1] = true
			digests = append(digests, f.SHA1)
		}
	}
	return digests, bytes, nil
}

// checkHeld returns a *MissingBlobsError for the blobs not held, or an error
// for a file whose size differs from its blob's.
func checkHeld(spec backend.VersionSpec, digests []string, held map[string]int64) error {
	var missing []string
	for _, d := range digests {
		if _, ok := held[d]; !ok {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		return &backend.MissingBlobsError{Digests: missing}
	}
	for _, f := range spec.Files {
		if held[f.SHA1] != f.Size {
			return fmt.Errorf("manifest file %s: size %d differs from the %d bytes stored for %s: hash the file again",
				f.Path, f.Size, held[f.SHA1], f.SHA1)
		}
	}
	return nil
}

// upsertVersion creates or replaces the version row, keeping its id (and so
// its traffic), and returns the id.
func (b *Backend) upsertVersion(ctx context.Context, tx *sql.Tx, spec backend.VersionSpec, config []byte, bytes int64, sum string) (int64, error) {
	appID, err := ensureApp(ctx, tx, spec.App)
	if err != nil {
		return 0, err
	}
	var serviceID int64
	err = tx.QueryRowContext(ctx,
		`INSERT INTO services (app_id, name) VALUES (?, ?)
		 ON CONFLICT (app_id, name) DO UPDATE SET name = excluded.name RETURNING id`,
		appID, spec.Service).Scan(&serviceID)
	if err != nil {
		return 0, dbErr(ctx, "recording service "+spec.Service, err)
	}
	var versionID int64
	err = tx.QueryRowContext(ctx, `
INSERT INTO versions (service_id, name, runtime, created, deployer, config, serving_status, files, bytes, manifest_sum)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (service_id, name) DO UPDATE SET
	runtime = excluded.runtime, created = excluded.created, deployer = excluded.deployer,
	config = excluded.config, serving_status = excluded.serving_status,
	files = excluded.files, bytes = excluded.bytes, manifest_sum = excluded.manifest_sum
RETURNING id`,
		serviceID, spec.Version, spec.Runtime, b.now().UnixNano(), b.user, config,
		string(backend.Serving), len(spec.Files), bytes, sum).Scan(&versionID)
	if err != nil {
		return 0, dbErr(ctx, "recording version "+spec.Version, err)
	}
	return versionID, nil
}

// replaceManifest replaces the version's manifest with files.
func replaceManifest(ctx context.Context, tx *sql.Tx, versionID int64, files []backend.FileRef) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM manifests WHERE version_id = ?`, versionID); err != nil {
		return dbErr(ctx, "replacing the manifest", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO manifests (version_id, path, sha1, size, mime) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return dbErr(ctx, "recording the manifest", err)
	}
	defer stmt.Close()
	for _, f := range files {
		if _, err := stmt.ExecContext(ctx, versionID, f.Path, f.SHA1, f.Size, f.MimeType); err != nil {
			return dbErr(ctx, "recording manifest file "+f.Path, err)
		}
	}
	return nil
}

// manifestSum is a digest of the manifest (sorted by path), stored with the
// version so an unchanged redeploy is recognised by one column rather than
// by reading every row of the manifest back.
func manifestSum(files []backend.FileRef) string {
	byPath := func(a, b backend.FileRef) int { return strings.Compare(a.Path, b.Path) }
	sorted := files
	if !slices.IsSortedFunc(files, byPath) { // a deploy's list comes sorted
		sorted = slices.Clone(files)
		slices.SortFunc(sorted, byPath)
	}
	// Each line is "len:path NUL sha1 NUL size NUL len:mime", appended to
	// one buffer rather than formatted (fmt costs more than the hashing);
	// the bytes must never change, stores keep the sums.
	h := sha1.New()
	var line []byte
	for _, f := range sorted {
		line = strconv.AppendInt(line[:0], int64(len(f.Path)), 10)
		line = append(line, ':')
		line = append(line, f.Path...)
		line = append(line, 0)
		line = append(line, f.SHA1...)
		line = append(line, 0)
		line = strconv.AppendInt(line, f.Size, 10)
		line = append(line, 0)
		line = strconv.AppendInt(line, int64(len(f.MimeType)), 10)
		line = append(line, ':')
		line = append(line, f.MimeType...)
		line = append(line, '\n')
		h.Write(line)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// versionQuery selects versions with their traffic share; callers append
// their WHERE clause.
const versionQuery = `
SELECT a.name, s.name, v.name, v.runtime, v.created, v.deployer, v.files, v.bytes, v.serving_status, COALESCE(t.share, 0)
FROM versions v
JOIN services s ON s.id = v.service_id
JOIN apps a ON a.id = s.app_id
LEFT JOIN traffic t ON t.version_id = v.id
`

// scanVersion reads one row of versionQuery.
func scanVersion(row interface{ Scan(...any) error }) (backend.Version, error) {
	var v backend.Version
	var created int64
	var status string
	err := row.Scan(&v.App, &v.Service, &v.ID, &v.Runtime, &created, &v.Deployer, &v.Files, &v.Bytes, &status, &v.Traffic)
	v.Created = time.Unix(0, created)
	v.ServingStatus = backend.ServingStatus(status)
	return v, err
}

// readVersion reads one version, or returns an error wrapping ErrNotFound.
func readVersion(ctx context.Context, q queryer, app, service, version string) (backend.Version, error) {
	row := q.QueryRowContext(ctx, versionQuery+`WHERE a.name = ? AND s.name = ? AND v.name = ?`, app, service, version)
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return backend.Version{}, versionNotFound(app, service, version)
	}
	if err != nil {
		return backend.Version{}, dbErr(ctx, "reading version "+version, err)
	}
	return v, nil
}

func versionNotFound(app, service, version string) error {
	return fmt.Errorf("version %s of service %s of app %s: %w (list them with list_versions)", version, service, app, backend.ErrNotFound)
}

// ListVersions lists app's versions sorted by service then version id. An
// app the store has never seen has none.
func (b *Backend) ListVersions(ctx context.Context, app, service string) ([]backend.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	rows, err := b.db.QueryContext(ctx, versionQuery+`WHERE a.name = ? AND (? = '' OR s.name = ?) ORDER BY s.name, v.name`,
		app, service, service)
	if err != nil {
		return nil, dbErr(ctx, "listing versions", err)
	}
	defer rows.Close()
	var vs []backend.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, dbErr(ctx, "listing versions", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "listing versions", err)
	}
	return vs, nil
}

// Version returns one version.
func (b *Backend) Version(ctx context.Context, app, service, version string) (backend.Version, error) {
	if err := ctx.Err(); err != nil {
		return backend.Version{}, fmt.Errorf("reading version %s: %w", version, err)
	}
	return readVersion(ctx, b.db, app, service, version)
}

// SameVersion implements backend.VersionMatcher: the version exists with
// the manifest (by its sum), runtime and configuration of spec.
func (b *Backend) SameVersion(ctx context.Context, spec backend.VersionSpec) (bool, error) {
	stored, err := storedForm(spec)
	if err != nil {
		return false, err
	}
	return sameVersion(ctx, b.db, spec, stored)
}

// stored is what the store records of a version spec that it compares:
// its manifest's sum and its configuration as YAML.
type stored struct {
	sum    string
	config []byte
}

// storedForm returns spec's stored form.
func storedForm(spec backend.VersionSpec) (stored, error) {
	config, err := storedConfig(spec)
	if err != nil {
		return stored{}, err
	}
	return stored{sum: manifestSum(spec.Files), config: config}, nil
}

// sameVersion is SameVersion read through q (the store, or a
// transaction); want is spec's stored form.
func sameVersion(ctx context.Context, q queryer, spec backend.VersionSpec, want stored) (bool, error) {
	var sum, runtime string
	var config []byte
	err := q.QueryRowContext(ctx, `
SELECT v.manifest_sum, v.runtime, v.config FROM versions v
JOIN services s ON s.id = v.service_id
JOIN apps a ON a.id = s.app_id
WHERE a.name = ? AND s.name = ? AND v.name = ?`, spec.App, spec.Service, spec.Version).Scan(&sum, &runtime, &config)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbErr(ctx, "reading version "+spec.Version, err)
	}
	return sum == want.sum && runtime == spec.Runtime && bytes.Equal(config, want.config), nil
}

// LiveAsIs implements backend.LiveChecker. Everything is read in one
// read-only transaction (a snapshot: SQLite's own, no write lock taken and
// nothing written), so the answer holds at one moment, as if the deploy
// asking had run whole then: a deploy that takes the version's lock later
// runs after it. After a Prefetch for the app, that is the transaction it
// read the app's blobs in, begun before the caller listed its files. The
// blob files are stat'ed as MissingBlobs does (by Prefetch, after that
// moment), so a content lost behind the store's back makes the deploy
// send it.
func (b *Backend) LiveAsIs(ctx context.Context, spec backend.VersionSpec, promote bool) (v backend.Version, live bool, err error) {
	if err := checkNames(spec.App, spec.Service, spec.Version); err != nil {
		return v, false, err
	}
	// The spec's side of the comparison (a SHA-1 of its manifest, its
	// configuration as YAML: a millisecond for 5,000 files) is made
	// before waiting for the Prefetch, which is often still stat'ing.
	want, err := storedForm(spec)
	if err != nil {
		return v, false, err
	}
	pre := b.takePrefetched(ctx, spec.App)
	tx, records, end := pre.snapshot()
	if tx == nil {
		if tx, err = b.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
			return v, false, dbErr(ctx, "reading version "+spec.Version, err)
		}
		end = func() { tx.Rollback() } //nolint:errcheck // read-only: nothing to keep
	}
	defer end()
	key := backend.LockKey{App: spec.App, Service: spec.Service, Version: spec.Version}
	// Any lock row, even an expired one, leaves the deploy to the usual
	// path: it takes the lock over, and a killed deploy's row pins
	// blobs for the collector until a deploy frees it.
	if _, _, locked, err := readLock(ctx, tx, key); err != nil || locked {
		return v, false, err
	}
	// The same manifest sum as the stored version's: spec's manifest is
	// the one CreateVersion checked (checkManifest) when it stored it.
	if same, err := sameVersion(ctx, tx, spec, want); err != nil || !same {
		return v, false, err
	}
	if v, err = readVersion(ctx, tx, spec.App, spec.Service, spec.Version); err != nil {
		return v, false, err
	}
	// A stopped version is created again, which starts it; a promotion
	// that would change the split writes.
	if v.ServingStatus == backend.Stopped || (promote && v.Traffic != 1) {
		return v, false, nil
	}
	if records == nil {
		digests := make([]string, len(spec.Files))
		for i, f := range spec.Files {
			digests[i] = f.SHA1
		}
		held, err := recordedBlobs(ctx, tx, spec.App, digests)
		if err != nil {
			return v, false, err
		}
		records = sortedRecords(held) // none seen in place: all stat'ed
	}
	// Every file's content recorded with its size, and its file in place:
	// stat'ed by Prefetch (the records it read say ok), or now.
	unseen := make(map[string]int64)
	idx := indexRecords(records)
	for _, f := range spec.Files {
		r := idx.find(f.SHA1)
		if r == nil || r.size != f.Size {
			return v, false, nil
		}
		if !r.ok {
			if !isDigest(f.SHA1) {
				return v, false, nil // a damaged record names no file
			}
			unseen[f.SHA1] = r.size
		}
	}
	lost := b.lostBlobs(ctx, unseen, nil, statWorkers)
	return v, len(lost) == 0, nil
}

// versionIDs returns the ids of a version and its service, or an error
// wrapping ErrNotFound.
func versionIDs(ctx context.Context, q queryer, app, service, version string) (serviceID, versionID int64, err error) {
	err = q.QueryRowContext(ctx, `
SELECT s.id, v.id FROM versions v
JOIN services s ON s.id = v.service_id
JOIN apps a ON a.id = s.app_id
WHERE a.name = ? AND s.name = ? AND v.name = ?`, app, service, version).Scan(&serviceID, &versionID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, versionNotFound(app, service, version)
	}
	if err != nil {
		return 0, 0, dbErr(ctx, "looking up version "+version, err)
	}
	return serviceID, versionID, nil
}

// checkSplit checks the shares of a traffic split.
func checkSplit(service string, split map[string]float64) error {
	if len(split) == 0 {
		return fmt.Errorf("the traffic split of service %s names no version: give at least one", service)
	}
	sum := 0.0
	for v, share := range split {
		if !(share > 0 && share <= 1) {
			return fmt.Errorf("version %s: traffic share %v is outside (0, 1]: give a share above 0 and at most 1", v, share)
		}
		sum += share
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("the traffic shares of service %s add up to %v: they must add up to 1", service, sum)
	}
	return nil
}

// SetTraffic replaces the service's split. The local host has no gradual
// migration, so migrate moves traffic at once, as the contract allows.
func (b *Backend) SetTraffic(ctx context.Context, app, service string, split map[string]float64, migrate bool) error {
	if err := checkSplit(service, split); err != nil {
		return err
	}
	names := make([]string, 0, len(split))
	for v := range split {
		names = append(names, v)
	}
	sort.Strings(names)
	return b.updateVersions(ctx, "setting the traffic of service "+service, func(tx *sql.Tx) error {
		ids := make(map[string]int64, len(names))
		var serviceID int64
		for _, v := range names {
			sid, vid, err := versionIDs(ctx, tx, app, service, v)
			if err != nil {
				return err
			}
			serviceID, ids[v] = sid, vid
		}
		if same, err := splitIs(ctx, tx, serviceID, ids, split); err != nil || same {
			// The split is already the service's: nothing changes, so
			// nothing is written (an unchanged redeploy promotes its
			// version again) and the history gains no repeated entry.
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM traffic WHERE service_id = ?`, serviceID); err != nil {
			return dbErr(ctx, "setting traffic", err)
		}
		for _, v := range names {
			if _, err := tx.ExecContext(ctx, `INSERT INTO traffic (service_id, version_id, share) VALUES (?, ?, ?)`,
				serviceID, ids[v], split[v]); err != nil {
				return dbErr(ctx, "setting traffic", err)
			}
		}
		doc, err := json.Marshal(split)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO traffic_history (service_id, at, split) VALUES (?, ?, ?)`,
			serviceID, b.now().UnixNano(), string(doc)); err != nil {
			return dbErr(ctx, "recording the traffic history", err)
		}
		return nil
	})
}

// splitIs reports whether the service's traffic is split exactly as split
// is, whose versions have the ids ids.
func splitIs(ctx context.Context, tx *sql.Tx, serviceID int64, ids map[string]int64, split map[string]float64) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version_id, share FROM traffic WHERE service_id = ?`, serviceID)
	if err != nil {
		return false, dbErr(ctx, "reading traffic", err)
	}
	defer rows.Close()
	have := make(map[int64]float64, len(split))
	for rows.Next() {
		var id int64
		var share float64
		if err := rows.Scan(&id, &share); err != nil {
			return false, dbErr(ctx, "reading traffic", err)
		}
		have[id] = share
	}
	if err := rows.Err(); err != nil {
		return false, dbErr(ctx, "reading traffic", err)
	}
	if len(have) != len(split) {
		return false, nil
	}
	for v, share := range split {
		if got, ok := have[ids[v]]; !ok || got != share {
			return false, nil
		}
	}
	return true, nil
}

// TrafficHistory implements backend.TrafficHistory: every split SetTraffic
// made, newest first.
func (b *Backend) TrafficHistory(ctx context.Context, app, service string) ([]backend.TrafficChange, error) {
	rows, err := b.db.QueryContext(ctx, `
SELECT h.at, h.split FROM traffic_history h
JOIN services s ON s.id = h.service_id JOIN apps a ON a.id = s.app_id
WHERE a.name = ? AND s.name = ? ORDER BY h.id DESC`, app, service)
	if err != nil {
		return nil, dbErr(ctx, "reading the traffic history", err)
	}
	defer rows.Close()
	var out []backend.TrafficChange
	for rows.Next() {
		var at int64
		var doc string
		if err := rows.Scan(&at, &doc); err != nil {
			return nil, dbErr(ctx, "reading the traffic history", err)
		}
		c := backend.TrafficChange{At: time.Unix(0, at)}
		if err := json.Unmarshal([]byte(doc), &c.Split); err != nil {
			return nil, fmt.Errorf("the traffic history of service %s holds a damaged split: %w", service, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "reading the traffic history", err)
	}
	return out, nil
}

// SetServingStatus starts or stops a version.
func (b *Backend) SetServingStatus(ctx context.Context, app, service, version string, status backend.ServingStatus) error {
	if status != backend.Serving && status != backend.Stopped {
		return fmt.Errorf("serving status %q is unknown: use %s or %s", status, backend.Serving, backend.Stopped)
	}
	return b.updateVersions(ctx, fmt.Sprintf("setting version %s to %s", version, status), func(tx *sql.Tx) error {
		_, versionID, err := versionIDs(ctx, tx, app, service, version)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE versions SET serving_status = ? WHERE id = ?`, string(status), versionID); err != nil {
			return dbErr(ctx, "setting serving status", err)
		}
		return nil
	})
}

// DeleteVersion deletes a version that receives no traffic, with its
// manifest. Its blobs stay: other versions may share them, and a redeploy
// then sends nothing.
func (b *Backend) DeleteVersion(ctx context.Context, app, service, version string) error {
	return b.updateVersions(ctx, "deleting version "+version, func(tx *sql.Tx) error {
		_, versionID, err := versionIDs(ctx, tx, app, service, version)
		if err != nil {
			return err
		}
		var share float64
		err = tx.QueryRowContext(ctx, `SELECT share FROM traffic WHERE version_id = ?`, versionID).Scan(&share)
		if err == nil {
			return fmt.Errorf("version %s of service %s receives %.0f%% of its traffic: move the traffic to another version first (set_default_version): %w",
				version, service, share*100, backend.ErrVersionServing)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return dbErr(ctx, "deleting version "+version, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM versions WHERE id = ?`, versionID); err != nil {
			return dbErr(ctx, "deleting version "+version, err)
		}
		return nil
	})
}

// Manifest implements backend.Contents.
func (b *Backend) Manifest(ctx context.Context, app, service, version string) (backend.VersionSpec, error) {
	spec := backend.VersionSpec{App: app, Service: service, Version: version}
	if err := ctx.Err(); err != nil {
		return spec, fmt.Errorf("reading the manifest of version %s: %w", version, err)
	}
	_, versionID, err := versionIDs(ctx, b.db, app, service, version)
	if err != nil {
		return spec, err
	}
	err = b.db.QueryRowContext(ctx, `SELECT runtime, config FROM versions WHERE id = ?`, versionID).Scan(&spec.Runtime, &spec.Config)
	if err != nil {
		return spec, dbErr(ctx, "reading version "+version, err)
	}
	spec.Files, err = b.manifestFiles(ctx, versionID, version)
	return spec, err
}

func (b *Backend) manifestFiles(ctx context.Context, versionID int64, version string) ([]backend.FileRef, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT path, sha1, size, mime FROM manifests WHERE version_id = ? ORDER BY path`, versionID)
	if err != nil {
		return nil, dbErr(ctx, "reading the manifest of version "+version, err)
	}
	defer rows.Close()
	var files []backend.FileRef
	for rows.Next() {
		var f backend.FileRef
		if err := rows.Scan(&f.Path, &f.SHA1, &f.Size, &f.MimeType); err != nil {
			return nil, dbErr(ctx, "reading the manifest of version "+version, err)
		}
		files = append(files, f)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "reading the manifest of version "+version, err)
	}
	return files, nil
}
