package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
)

// VerifyStore implements backend.StoreVerifier: the database's own
// integrity check, then every blob file read through its SHA-1 (on a few
// goroutines), then every manifest entry against the blobs its app holds.
func (b *Backend) VerifyStore(ctx context.Context, opts backend.VerifyOptions) (*backend.StoreReport, error) {
	rep := &backend.StoreReport{Schema: backend.StoreReportSchema, Store: b.location,
		Problems: []backend.StoreProblem{}, Versions: []backend.DamagedVersion{}}
	if err := b.checkDatabase(ctx, rep); err != nil {
		return nil, err
	}
	rows, err := allBlobRows(ctx, b.db, "")
	if err != nil {
		return nil, err
	}
	rows, damaged := soundRecords(rows)
	contents := groupByDigest(rows)
	rep.Blobs = len(contents)
	for _, c := range contents {
		rep.Bytes += c.size
	}
	bad := b.checkContents(ctx, contents, rep.Bytes, opts.Progress)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("verifying the store: %w", err)
	}
	problems := map[string]int{} // digest → index in rep.Problems
	for _, c := range contents {
		if p, ok := bad[c.digest]; ok {
			p.Apps = c.apps
			problems[c.digest] = len(rep.Problems)
			rep.Problems = append(rep.Problems, p)
		}
	}
	firstRecord := len(rep.Problems)
	for _, r := range damaged {
		p := backend.StoreProblem{Kind: backend.ProblemRecord, Apps: []string{r.app},
			Detail: fmt.Sprintf("a blob record of app %s is damaged: %s", r.app, r.damage)}
		if isDigest(r.digest) {
			p.SHA1 = r.digest // only its size is damaged
		}
		rep.Problems = append(rep.Problems, p)
	}
	undecodable, err := b.damagedRows(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range undecodable {
		rep.Problems = append(rep.Problems, backend.StoreProblem{Kind: backend.ProblemRecord, Apps: r.apps, Detail: r.detail})
	}
	if err := b.checkManifests(ctx, rep, bad); err != nil {
		return nil, err
	}
	if err := b.countStrays(ctx, rep, contents); err != nil {
		return nil, err
	}
	if opts.Repair && len(bad)+len(damaged)+len(undecodable) > 0 {
		if err := b.repair(ctx, bad, damaged, undecodable); err != nil {
			return rep, err
		}
		for d := range bad {
			rep.Problems[problems[d]].Repaired = true
		}
		for i := range len(damaged) + len(undecodable) {
			rep.Problems[firstRecord+i].Repaired = true
		}
		rep.Repaired = len(bad) + len(damaged) + len(undecodable)
	}
	if opts.Collect {
		if err := b.collectAll(ctx, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// damagedRow is a stored entity or request-log chunk that cannot be read
// back (damagedf): what it is, and the statement that forgets it given
// key. Its contents are lost either way; forgetting it lets every command
// that reads the others work again.
type damagedRow struct {
	apps   []string
	detail string
	forget string
	key    any
}

// damagedRows decodes every stored entity and request-log chunk, as the
// commands that read them decode them, and returns those that are damaged
// (backend.ErrDamagedRecord). Another failure (an entity of a newer codec:
// "upgrade appcfg") stops verify, so that --repair forgets no row that a
// newer appcfg reads.
func (b *Backend) damagedRows(ctx context.Context) ([]damagedRow, error) {
	apps := map[int64]string{}
	if err := b.eachRow(ctx, "reading the apps", `SELECT id, name FROM apps`, func(sc func(...any) error) error {
		var id int64
		var name string
		err := sc(&id, &name)
		apps[id] = name
		return err
	}); err != nil {
		return nil, err
	}
	appOf := func(id int64) []string {
		if name, ok := apps[id]; ok {
			return []string{name}
		}
		return nil
	}
	var out []damagedRow
	err := b.eachRow(ctx, "reading the stored entities", `SELECT k, data, typeof(k) = 'text' FROM entities`, func(sc func(...any) error) error {
		var k, data []byte
		var text bool
		if err := sc(&k, &data, &text); err != nil {
			return err
		}
		if _, err := decodeEntity(k, data); err != nil {
			if !errors.Is(err, backend.ErrDamagedRecord) {
				return err // written by a newer appcfg: not to be forgotten
			}
			var app []string
			if id, ok := rowKeyAppID(k); ok {
				app = appOf(id)
			}
			out = append(out, damagedRow{apps: app, detail: fmt.Sprintf("%s (row key %x)", damage(err), k),
				forget: `DELETE FROM entities WHERE k = ?`, key: k})
			if text { // a hand edit: the key compares as the text it is
				out[len(out)-1].key = string(k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = b.eachRow(ctx, "reading the stored request logs", `SELECT id, app_id, count, data FROM log_chunks`, func(sc func(...any) error) error {
		var m chunkMeta
		var appID int64
		var data []byte
		if err := sc(&m.id, &appID, &m.count, &data); err != nil {
			return err
		}
		c := &cursor{m: m}
		d := logDecoder{s: string(data)}
		if err := c.decode(&d); err != nil {
			if !errors.Is(err, backend.ErrDamagedRecord) {
				return err
			}
			out = append(out, damagedRow{apps: appOf(appID), detail: damage(err),
				forget: `DELETE FROM log_chunks WHERE id = ?`, key: m.id})
		}
		return nil
	})
	return out, err
}

// eachRow runs query and calls fn with each row's Scan.
func (b *Backend) eachRow(ctx context.Context, what, query string, fn func(scan func(...any) error) error) error {
	rows, err := b.db.QueryContext(ctx, query)
	if err != nil {
		return dbErr(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return dbErr(ctx, what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr(ctx, what, err)
	}
	return nil
}

// checkDatabase runs SQLite's quick_check and reports what it finds.
func (b *Backend) checkDatabase(ctx context.Context, rep *backend.StoreReport) error {
	rows, err := b.db.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return dbErr(ctx, "checking the store's database", err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return dbErr(ctx, "checking the store's database", err)
		}
		if line != "ok" {
			rep.Problems = append(rep.Problems, backend.StoreProblem{Kind: backend.ProblemDatabase, Detail: line})
		}
	}
	return rows.Err()
}

// content is one stored content and the apps that hold it.
type content struct {
	digest string
	size   int64
	apps   []string
}

// soundRecords splits blob records into the sound ones and the damaged
// ones (recordDamage), which name no file to check.
func soundRecords(rows []blobRow) (sound, damaged []blobRow) {
	sound = rows[:0:0]
	for _, r := range rows {
		if r.damage != "" {
			damaged = append(damaged, r)
		} else {
			sound = append(sound, r)
		}
	}
	return sound, damaged
}

// groupByDigest turns records (sorted by digest) into contents. Records of
// one digest with different sizes keep the first; the file check then
// tells which is wrong.
func groupByDigest(rows []blobRow) []content {
	var out []content
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1].digest == r.digest {
			out[n-1].apps = append(out[n-1].apps, r.app)
			continue
		}
		out = append(out, content{digest: r.digest, size: r.size, apps: []string{r.app}})
	}
	return out
}

// checkContents reads every content's file through its SHA-1 and returns
// the bad ones by digest.
func (b *Backend) checkContents(ctx context.Context, contents []content, total int64, progress func(int64, int64)) map[string]backend.StoreProblem {
	var mu sync.Mutex
	bad := map[string]backend.StoreProblem{}
	var done atomic.Int64
	next := atomic.Int64{}
	var wg sync.WaitGroup
	var crashed crash.Catcher
	for range min(4, len(contents)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer crashed.Recover()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(contents) {
					return
				}
				c := contents[i]
				if p, ok := b.checkFile(ctx, c); !ok {
					mu.Lock()
					bad[c.digest] = p
					mu.Unlock()
				}
				n := done.Add(c.size)
				if progress != nil {
					progress(n, total)
				}
			}
		}()
	}
	wg.Wait()
	crashed.Reraise()
	return bad
}

// checkFile checks one content's file.
func (b *Backend) checkFile(ctx context.Context, c content) (backend.StoreProblem, bool) {
	p := backend.StoreProblem{SHA1: c.digest}
	path := b.blobPath(c.digest)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		p.Kind, p.Detail = backend.ProblemMissing, fmt.Sprintf("the file %s is missing", path)
		return p, false
	}
	if err != nil {
		p.Kind, p.Detail = backend.ProblemUnreadable, err.Error()
		return p, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() != c.size {
		p.Kind, p.Detail = backend.ProblemSize, fmt.Sprintf("the file %s holds %d bytes, the record says %d", path, fi.Size(), c.size)
		return p, false
	}
	err = backend.CheckContent(ctx, f, c.digest, c.size)
	switch {
	case err == nil:
		return p, true
	case errors.Is(err, backend.ErrDigestMismatch):
		p.Kind, p.Detail = backend.ProblemContent, fmt.Sprintf("the file %s is damaged: %v", path, err)
	default:
		p.Kind, p.Detail = backend.ProblemUnreadable, fmt.Sprintf("reading %s: %v", path, err)
	}
	return p, false
}

// checkManifests checks every file of every version: its content must be
// recorded for its app with its size, and sound. Damaged files are
// reported by version.
func (b *Backend) checkManifests(ctx context.Context, rep *backend.StoreReport, bad map[string]backend.StoreProblem) error {
	rows, err := b.db.QueryContext(ctx, `
SELECT a.name, s.name, v.name, m.path, m.sha1, m.size, b.size
FROM manifests m
JOIN versions v ON v.id = m.version_id
JOIN services s ON s.id = v.service_id
JOIN apps a ON a.id = s.app_id
LEFT JOIN blobs b ON b.app_id = s.app_id AND b.sha1 = m.sha1
ORDER BY a.name, s.name, v.name, m.path`)
	if err != nil {
		return dbErr(ctx, "reading the manifests", err)
	}
	defer rows.Close()
	unrecorded := map[string]int{}
	for rows.Next() {
		var app, service, version, path, digest string
		var size int64
		var held any // the record's size, nil when there is no record
		if err := rows.Scan(&app, &service, &version, &path, &digest, &size, &held); err != nil {
			return dbErr(ctx, "reading the manifests", err)
		}
		rep.Files++
		kind := ""
		_, heldSize, damage := recordDamage(digest, held)
		switch {
		case held == nil:
			kind = backend.ProblemUnrecorded
			i, seen := unrecorded[app+"\x00"+digest]
			if !seen {
				i = len(rep.Problems)
				unrecorded[app+"\x00"+digest] = i
				rep.Problems = append(rep.Problems, backend.StoreProblem{Kind: kind, SHA1: digest, Apps: []string{app},
					Detail: fmt.Sprintf("version %s of service %s names content app %s has no record of", version, service, app)})
			}
		case damage != "":
			kind = backend.ProblemRecord // reported with the records
		case bad[digest].Kind != "":
			kind = bad[digest].Kind
		case heldSize != size:
			kind = backend.ProblemSize
			rep.Problems = append(rep.Problems, backend.StoreProblem{Kind: kind, SHA1: digest, Apps: []string{app},
				Detail: fmt.Sprintf("%s of version %s of service %s is %d bytes in the manifest, %d in the blob record", path, version, service, size, heldSize)})
		}
		if kind == "" {
			continue
		}
		n := len(rep.Versions)
		if n == 0 || rep.Versions[n-1].App != app || rep.Versions[n-1].Service != service || rep.Versions[n-1].Version != version {
			rep.Versions = append(rep.Versions, backend.DamagedVersion{App: app, Service: service, Version: version})
			n++
		}
		rep.Versions[n-1].Files = append(rep.Versions[n-1].Files, backend.DamagedFile{Path: path, SHA1: digest, Kind: kind})
	}
	return rows.Err()
}

// countStrays counts unused blobs, unrecorded files and temporary files.
func (b *Backend) countStrays(ctx context.Context, rep *backend.StoreReport, contents []content) error {
	tx, err := b.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return dbErr(ctx, "reading the blob records", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	unused, err := unusedBlobs(ctx, tx, "")
	if err != nil {
		return err
	}
	for _, u := range unused {
		if u.damage == "" { // a damaged record is a problem, not a content
			rep.UnusedBlobs++
			rep.UnusedBytes += u.size
		}
	}
	recorded := make(map[string]bool, len(contents))
	for _, c := range contents {
		recorded[c.digest] = true
	}
	rep.UnrecordedFiles = len(b.unrecordedFiles(recorded))
	b.forEachTemp(func(string, fs.FileInfo) { rep.TempFiles++ })
	return nil
}

// unrecordedFiles returns the digests of blob files no record names.
func (b *Backend) unrecordedFiles(recorded map[string]bool) []string {
	var out []string
	top := filepath.Join(b.root, blobDir)
	dirs, _ := os.ReadDir(top)
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(top, d.Name()))
		for _, e := range entries {
			digest := d.Name() + e.Name()
			if strings.HasPrefix(e.Name(), tmpPrefix) || checkDigest(digest) != nil || recorded[digest] {
				continue
			}
			out = append(out, digest)
		}
	}
	sort.Strings(out)
	return out
}

// repair forgets the bad contents, every record of them and their files,
// and the damaged records (only the record: it names no file), in one
// transaction holding the write lock (see CollectBlobs).
func (b *Backend) repair(ctx context.Context, bad map[string]backend.StoreProblem, damaged []blobRow, rows []damagedRow) error {
	var trash []trashed
	err := b.update(ctx, "forgetting damaged blobs", func(tx *sql.Tx) error {
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, r.forget, r.key); err != nil {
				return dbErr(ctx, "forgetting "+r.detail, err)
			}
		}
		for _, r := range damaged {
			if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE app_id = ? AND sha1 = ?`, r.appID, r.key); err != nil {
				return dbErr(ctx, "forgetting a damaged blob record of app "+r.app, err)
			}
		}
		for d := range bad {
			if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE sha1 = ?`, d); err != nil {
				return dbErr(ctx, "forgetting blob "+d, err)
			}
			t, _, err := b.moveAside(d)
			if err != nil {
				return err
			}
			if t.to != "" {
				trash = append(trash, t)
			}
		}
		return nil
	})
	if err != nil {
		restore(trash)
		return err
	}
	empty(trash)
	return nil
}

// collectAll collects every app's unused blobs, then the files no record
// names and the temporary files old enough to be a killed deploy's.
func (b *Backend) collectAll(ctx context.Context, rep *backend.StoreReport) error {
	c, err := b.CollectBlobs(ctx, "")
	if err != nil {
		return err
	}
	var trash []trashed
	err = b.update(ctx, "removing unrecorded blob files", func(tx *sql.Tx) error {
		// Under the write lock, so no record of these can commit meanwhile;
		// a file whose record is being written waits for its flush's
		// check and is written again.
		rows, err := allBlobRows(ctx, tx, "")
		if err != nil {
			return err
		}
		recorded := make(map[string]bool, len(rows))
		for _, r := range rows {
			recorded[r.digest] = true
		}
		for _, d := range b.unrecordedFiles(recorded) {
			// A recent one may be a deploy's, renamed into place and
			// waiting for its record.
			if fi, err := os.Lstat(b.blobPath(d)); err != nil || b.now().Sub(fi.ModTime()) <= tmpMaxAge {
				continue
			}
			t, size, err := b.moveAside(d)
			if err != nil {
				return err
			}
			if t.to != "" {
				trash = append(trash, t)
				c.Files++
				c.Bytes += size
			}
		}
		return nil
	})
	if err != nil {
		restore(trash)
		return err
	}
	empty(trash)
	b.forEachTemp(func(path string, fi fs.FileInfo) {
		if b.now().Sub(fi.ModTime()) > tmpMaxAge && os.Remove(path) == nil {
			c.Files++
			c.Bytes += fi.Size()
		}
	})
	rep.Collected = &c
	return nil
}

var (
	_ backend.BlobCollector = (*Backend)(nil)
	_ backend.StoreVerifier = (*Backend)(nil)
)
