package local

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/diskfile"
	"github.com/appcfg/appcfg/internal/redact"
)

// blobDir is the directory of blob files inside a store's root.
const blobDir = "blobs"

// tmpPrefix starts the name of every file in a blob directory that is not a
// blob: one being written, or one being removed. Such a file is swept when
// it is older than tmpMaxAge (see sweepTemp).
const tmpPrefix = ".tmp-"

// blobPath returns where the blob with digest lives: blobs/ab/cdef….
func (b *Backend) blobPath(digest string) string {
	return filepath.Join(b.root, blobDir, digest[:2], digest[2:])
}

// checkDigest refuses anything but 40 lowercase hex digits; a digest is also
// a file name, so this keeps paths inside the store.
func checkDigest(d string) error {
	if !isDigest(d) {
		return fmt.Errorf("%q is not a SHA-1 digest: want 40 lowercase hex digits", d)
	}
	return nil
}

// isDigest reports whether d is 40 lowercase hex digits. A table lookup
// per byte: an unchanged redeploy checks every digest the app holds.
func isDigest(d string) bool {
	if len(d) != 2*sha1.Size {
		return false
	}
	var bad byte
	for i := 0; i < len(d); i++ {
		bad |= hexValue[d[i]]
	}
	return bad&notHex == 0
}

// recordDamage reads a blob record's digest and size as the database
// holds them (any type: the store writes TEXT and INTEGER, a hand edit or
// a damaged page may leave anything) and says what is wrong with them, or
// "" when the record is what the store writes: 40 lowercase hex digits
// (the digest is also the file's name, so nothing else may become a path)
// and a size of at least 0. It is the one check of a record read back;
// verify reports what it finds, and the errors it feeds (damagedRecord)
// say how to repair it.
func recordDamage(digest, size any) (string, int64, string) {
	d, ok := digest.(string)
	if !ok {
		b, _ := digest.([]byte)
		d = string(b)
	}
	n, sized := size.(int64)
	switch {
	case !ok || !isDigest(d):
		return d, n, fmt.Sprintf("its digest %s is not 40 lowercase hex digits", redact.Quote(d))
	case !sized || n < 0:
		return d, n, fmt.Sprintf("its size %s is not a number of bytes", redact.Quote(fmt.Sprint(size)))
	}
	return d, n, ""
}

// damagedRecord is the error for the damaged blob record of app for
// digest that a command other than verify runs into: which record (its
// digest when that is sound) and what is wrong (recordDamage), through
// damagedf. Forgetting the record is the repair: the next update sends
// the content again.
func damagedRecord(app, digest, damage string) error {
	record := "a blob record"
	if isDigest(digest) {
		record = "the blob record " + digest
	}
	return damagedf("%s of app %s in the store is damaged: %s", record, app, damage)
}

// damagedf is the error for a record of the store that is not one the
// store writes (a hand edit, a damaged page), as a backend.ErrDamagedRecord:
// the format names the record and what is wrong; what to run is said here,
// once for every kind of record, as verify --repair forgets each kind a
// command can run into (blob records, entities, request-log chunks:
// verify.go).
func damagedf(format string, args ...any) error {
	return damagedRecordError{fmt.Sprintf(format, args...)}
}

// damagedRecordError is damagedf's error: what is damaged, the command
// that repairs it, and backend.ErrDamagedRecord to errors.Is.
type damagedRecordError struct{ what string }

func (e damagedRecordError) Error() string {
	return e.what + "; run appcfg verify --repair, which forgets it, then run this command again"
}

func (e damagedRecordError) Is(target error) bool { return target == backend.ErrDamagedRecord }

// damage is what a damagedf error says is wrong, without what to run
// (verify's report), or err's message for another error.
func damage(err error) string {
	if d, ok := errors.AsType[damagedRecordError](err); ok {
		return d.what
	}
	return err.Error()
}

// notHex marks, in hexValue, a byte that is no lowercase hex digit.
const notHex = 0x80

// hexValue is each byte's value as a lowercase hex digit, or notHex.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = notHex
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// MissingBlobs returns the digests the store lacks for app, in the order
// given. A blob counts as held only when its record exists and its file is
// in place with the recorded size: a file deleted or truncated behind the
// store's back is reported missing, so the deploy asking sends it again
// rather than creating a version with a hole.
func (b *Backend) MissingBlobs(ctx context.Context, app string, digests []string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("checking which files the store lacks: %w", err)
	}
	if err := checkName("application id", app); err != nil {
		return nil, err
	}
	for _, d := range digests {
		if err := checkDigest(d); err != nil {
			return nil, err
		}
	}
	held, err := b.heldInPlace(ctx, b.db, app, digests)
	if err != nil {
		return nil, err
	}
	missing := make([]string, 0, len(digests)-len(held))
	for _, d := range digests {
		if _, ok := held[d]; !ok {
			missing = append(missing, d)
		}
	}
	return missing, nil
}

// heldInPlace returns the size of each digest among digests that app has a
// record of (read through q) and whose file is in place with that size.
func (b *Backend) heldInPlace(ctx context.Context, q queryer, app string, digests []string) (map[string]int64, error) {
	// A stat per held blob, not a read: content damaged in place (same
	// size) is what OpenBlob's readers and `appcfg verify` catch. The
	// ones Prefetch stat'ed during this deploy are not stat'ed again:
	// its stats are done before the records are read (see Prefetch),
	// and its transaction is ended first, which frees its connection.
	pre := b.takePrefetched(ctx, app)
	pre.endTx()
	seen := pre.inPlaceSeen()
	held, err := recordedBlobs(ctx, q, app, digests)
	if err != nil {
		return nil, err
	}
	for _, d := range b.lostBlobs(ctx, held, seen, statWorkers) {
		delete(held, d)
	}
	return held, nil
}

// blobCheck is one blob file to stat: in place when ok. A slice of them
// in digest order is also an app's records as Prefetch read them (see
// appBlobs), ok saying which files it found in place.
type blobCheck struct {
	digest string
	size   int64
	ok     bool
}

// findRecord returns the record of digest among records (in digest
// order), or nil.
func findRecord(records []blobCheck, digest string) *blobCheck {
	i, found := slices.BinarySearchFunc(records, digest, func(c blobCheck, d string) int {
		return strings.Compare(c.digest, d)
	})
	if !found {
		return nil
	}
	return &records[i]
}

// recordIndex finds an app's records (in digest order) by digest: where
// the records of each three-hex-digit prefix start, so that a lookup
// compares the digest with one or two records instead of the thirteen of
// a binary search of 5,000 (LiveAsIs looks up every file of a version;
// those searches were a fiftieth of an unchanged redeploy's CPU time).
type recordIndex struct {
	records []blobCheck
	// at[p] is the first record whose prefix is p or more; nil when a
	// record's digest does not begin with three hex digits (a damaged
	// one): find then searches them all.
	at []int32
}

// prefixes is how many three-hex-digit prefixes there are.
const prefixes = 1 << 12

// prefix3 is the number of the three hex digits d begins with, false
// when it does not begin with three.
func prefix3(d string) (int, bool) {
	if len(d) < 3 || (hexValue[d[0]]|hexValue[d[1]]|hexValue[d[2]])&notHex != 0 {
		return 0, false
	}
	return int(hexValue[d[0]])<<8 | int(hexValue[d[1]])<<4 | int(hexValue[d[2]]), true
}

// indexRecords indexes records, which are in digest order. Lowercase hex
// digits sort as their values, so records of a prefix lie together.
func indexRecords(records []blobCheck) recordIndex {
	idx := recordIndex{records: records}
	if len(records) < 64 || len(records) > math.MaxInt32 {
		return idx // a binary search is as quick
	}
	at := make([]int32, prefixes+1)
	next := 0 // the first prefix whose start is not yet known
	for i := range records {
		p, ok := prefix3(records[i].digest)
		if !ok {
			return idx
		}
		for ; next <= p; next++ {
			at[next] = int32(i)
		}
	}
	for ; next <= prefixes; next++ {
		at[next] = int32(len(records))
	}
	idx.at = at
	return idx
}

// find returns the record of digest, or nil.
func (x recordIndex) find(digest string) *blobCheck {
	p, ok := prefix3(digest)
	if x.at == nil || !ok {
		return findRecord(x.records, digest)
	}
	return findRecord(x.records[x.at[p]:x.at[p+1]], digest)
}

// lostBlobs returns the blobs of held (digest → recorded size) whose file
// is absent or not of that size, but for those seen in place with that
// size by Prefetch. held's digests are checked ones (isDigest): each
// names its file. The checks are laid out in one slice, grouped by
// directory with a counting pass (no map of slices grown per directory):
// on an unchanged redeploy of 5,000 files that growth cost about 120 page
// faults, and this VM's faults are dear. A blob left unchecked because
// ctx ended counts as lost.
func (b *Backend) lostBlobs(ctx context.Context, held map[string]int64, seen *inPlace, workers int) []string {
	var at [257]int // where each directory's checks start, by its prefix
	n := 0
	for d, size := range held {
		if !seen.has(d, size) {
			at[dirIndex(d)+1]++
			n++
		}
	}
	if n == 0 {
		return nil
	}
	for i := range 256 {
		at[i+1] += at[i]
	}
	checks := make([]blobCheck, n)
	next := at
	for d, size := range held {
		if !seen.has(d, size) {
			i := dirIndex(d)
			checks[next[i]] = blobCheck{digest: d, size: size}
			next[i]++
		}
	}
	b.checkGrouped(ctx, checks, workers)
	var lost []string
	for _, c := range checks {
		if !c.ok {
			lost = append(lost, c.digest)
		}
	}
	return lost
}

// checkGrouped sets the ok of each of checks, which are grouped by blobs/ab
// directory (digest order is), directory by directory, each stat relative
// to the blobs directory opened once (see blobsDir), on a few goroutines
// (at most workers): on a cold cache each stat waits on the disk. A check
// left undone because ctx ended, or every check when there is no blobs
// directory, stays not ok.
func (b *Backend) checkGrouped(ctx context.Context, checks []blobCheck, workers int) {
	if len(checks) == 0 {
		return
	}
	dir, err := openBlobsDir(filepath.Join(b.root, blobDir))
	if err != nil {
		return // none of them is in place
	}
	defer dir.close()
	var starts []int // where each directory's checks start
	for i := range checks {
		if i == 0 || checks[i].digest[:2] != checks[i-1].digest[:2] {
			starts = append(starts, i)
		}
	}
	group := func(k int) []blobCheck {
		end := len(checks)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		return checks[starts[k]:end]
	}
	// Worker w checks every workers-th directory.
	check := func(w, workers int) {
		for k := w; k < len(starts) && ctx.Err() == nil; k += workers {
			dir.inPlace(group(k))
		}
	}
	if workers = min(workers, len(starts)); workers <= 1 {
		check(0, 1) // on the caller's goroutine: no hand-off
		return
	}
	var wg sync.WaitGroup
	var crashed crash.Catcher
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer crashed.Recover()
			check(w, workers)
		}()
	}
	wg.Wait()
	crashed.Reraise()
}

// dirIndex is the number (0 to 255) of the blobs/ab directory of a
// digest (isDigest).
func dirIndex(digest string) int {
	return int(hexValue[digest[0]])<<4 | int(hexValue[digest[1]])
}

// statWorkers is how many goroutines check blob files when a deploy waits
// for the answer.
const statWorkers = 4

// fileInPlace reports whether the blob's file exists with size bytes.
func (b *Backend) fileInPlace(digest string, size int64) bool {
	fi, err := os.Stat(b.blobPath(digest))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// recordedBlobs returns the size of each digest among digests that app has
// a record of. An unknown app holds nothing.
func recordedBlobs(ctx context.Context, q queryer, app string, digests []string) (map[string]int64, error) {
	held := make(map[string]int64)
	if len(digests) == 0 {
		return held, nil
	}
	appID, err := lookupApp(ctx, q, app)
	if errors.Is(err, backend.ErrNotFound) {
		return held, nil
	}
	if err != nil {
		return nil, err
	}
	found, err := queryHeld(ctx, q, appID, digests)
	if err != nil {
		return nil, err
	}
	want := make(map[string]struct{}, len(digests))
	for _, d := range digests {
		want[d] = struct{}{}
	}
	return parseHeld(app, found, want, len(digests))
}

// appBlobs returns the blob records of app in digest order (none checked
// yet: ok is false), or nil when it has none or more than max. A slice in
// the primary key's order, which costs the query no sort, rather than a
// map: it is already grouped by blobs/ab directory, so Prefetch stats
// its files in place (checkGrouped) instead of laying out a copy of every
// record, and it is a third of the map's memory. For 5,000 records the
// map and that copy were about 105 fresh pages.
func appBlobs(ctx context.Context, q queryer, app string, max int) ([]blobCheck, error) {
	appID, err := lookupApp(ctx, q, app)
	if errors.Is(err, backend.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	stored, err := countHeld(ctx, q, appID)
	if err != nil || stored == 0 || stored > max {
		return nil, err
	}
	// Row by row: as cheap in CPU as one group_concat of them all (whose
	// buffer SQLite grew by doubling, each time into fresh pages, then
	// copied into a Go string), with a third of the page faults. Each
	// digest is the string the driver made of the column (Scan into a
	// string keeps it as it is): a copy of it, into an arena, was another
	// 200 KB of fresh memory for 5,000 blobs.
	rows, err := q.QueryContext(ctx, `SELECT sha1, size FROM blobs WHERE app_id = ? ORDER BY sha1`, appID)
	if err != nil {
		return nil, dbErr(ctx, "checking which files the store lacks", err)
	}
	defer rows.Close()
	held := make([]blobCheck, 0, stored)
	var digest string
	var size int64
	for rows.Next() {
		if err := rows.Scan(&digest, &size); err != nil {
			// A size that is no number: scanned again as it is held.
			var held any
			if rows.Scan(&digest, &held) == nil {
				if _, _, damage := recordDamage(digest, held); damage != "" {
					return nil, damagedRecord(app, digest, damage)
				}
			}
			return nil, dbErr(ctx, "checking which files the store lacks", err)
		}
		if _, _, damage := recordDamage(digest, size); damage != "" {
			return nil, damagedRecord(app, digest, damage)
		}
		held = append(held, blobCheck{digest: digest, size: size})
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "checking which files the store lacks", err)
	}
	return held, nil
}

// sortedRecords returns held (digest → size) as records in digest order,
// none checked.
func sortedRecords(held map[string]int64) []blobCheck {
	records := make([]blobCheck, 0, len(held))
	for d, size := range held {
		records = append(records, blobCheck{digest: d, size: size})
	}
	slices.SortFunc(records, func(a, b blobCheck) int { return strings.Compare(a.digest, b.digest) })
	return records
}

// parseHeld reads queryHeld's "sha1 size" records into a map, keeping
// only the digests in want.
func parseHeld(app, found string, want map[string]struct{}, n int) (map[string]int64, error) {
	held := make(map[string]int64, n)
	for rest := found; rest != ""; {
		var rec string
		rec, rest, _ = strings.Cut(rest, ",")
		d, size, ok := strings.Cut(rec, " ")
		if !ok {
			continue
		}
		if _, asked := want[d]; !asked {
			continue
		}
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil || n < 0 {
			_, _, damage := recordDamage(d, size)
			return nil, damagedRecord(app, d, damage)
		}
		held[d] = n
	}
	return held, nil
}

// queryHeld returns "sha1 size" records, comma-separated, of app's blobs:
// at least those among digests, possibly all the app's. One statement and
// one result row however many digests: a row per digest through
// database/sql costs more than the lookup itself.
func queryHeld(ctx context.Context, q queryer, appID int64, digests []string) (string, error) {
	stored, err := countHeld(ctx, q, appID)
	if err != nil {
		return "", err
	}
	if stored <= 4*len(digests) {
		// A deploy usually asks about most of what the app holds: reading
		// the app's whole list beats one index probe per digest.
		return allHeld(ctx, q, appID)
	}
	// The list travels as one JSON array, not thousands of parameters.
	list, err := json.Marshal(digests)
	if err != nil {
		return "", fmt.Errorf("checking which files the store lacks: %w", err)
	}
	var found sql.NullString
	if err := q.QueryRowContext(ctx, `
SELECT group_concat(sha1 || ' ' || size, ',') FROM blobs
WHERE app_id = ? AND sha1 IN (SELECT value FROM json_each(?))`, appID, string(list)).Scan(&found); err != nil {
		return "", dbErr(ctx, "checking which files the store lacks", err)
	}
	return found.String, nil
}

// countHeld returns how many blobs app (by id) has a record of.
func countHeld(ctx context.Context, q queryer, appID int64) (int, error) {
	var stored int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM blobs WHERE app_id = ?`, appID).Scan(&stored); err != nil {
		return 0, dbErr(ctx, "checking which files the store lacks", err)
	}
	return stored, nil
}

// allHeld returns queryHeld's records for every blob of app (by id).
func allHeld(ctx context.Context, q queryer, appID int64) (string, error) {
	var found sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT group_concat(sha1 || ' ' || size, ',') FROM blobs WHERE app_id = ?`,
		appID).Scan(&found); err != nil {
		return "", dbErr(ctx, "checking which files the store lacks", err)
	}
	return found.String, nil
}

// PutBlob stores a blob: written to a temporary file beside its final name
// and verified while written; then, at the next SyncBlobs, in one commit
// with every blob stored since, synced, renamed into place, its directory
// synced, and only then recorded for app (see committer). Until then the
// blob is not confirmed: MissingBlobs reports it. A blob whose file is in
// place and recorded (for any app) is only verified: its durable file is
// never replaced.
func (b *Backend) PutBlob(ctx context.Context, app, digest string, size int64, r io.Reader) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storing blob %s: %w", digest, err)
	}
	if err := checkName("application id", app); err != nil {
		return err
	}
	if err := checkDigest(digest); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("storing blob %s: negative size %d", digest, size)
	}
	final := b.blobPath(digest)
	durable, err := b.isDurable(ctx, digest, size)
	if err != nil {
		return err
	}
	rec := &blobRecord{app: app, digest: digest, size: size, path: final, dir: filepath.Dir(final), synced: durable}
	if durable {
		if err := verifyStream(ctx, digest, size, r); err != nil {
			return err
		}
	} else if rec.tmp, err = b.writeBlobFile(ctx, digest, size, r); err != nil {
		return b.noSpace("storing blob "+digest, err)
	}
	b.commit.add(rec)
	return nil
}

// isDurable reports whether the blob's file is in place with its size and
// recorded (for any app), hence already synced.
func (b *Backend) isDurable(ctx context.Context, digest string, size int64) (bool, error) {
	if !b.fileInPlace(digest, size) {
		return false, nil // the usual case on a first upload: no query needed
	}
	var one int
	err := b.db.QueryRowContext(ctx, `SELECT 1 FROM blobs WHERE sha1 = ? LIMIT 1`, digest).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbErr(ctx, "looking up blob "+digest, err)
	}
	return true, nil
}

// verifyStream reads r and checks it is size bytes with the given digest.
func verifyStream(ctx context.Context, digest string, size int64, r io.Reader) error {
	err := backend.CheckContent(ctx, r, digest, size)
	if err != nil && !errors.Is(err, backend.ErrDigestMismatch) {
		return fmt.Errorf("storing blob %s: %w", digest, err)
	}
	return err
}

// writeBlobFile writes the verified content to a temporary file in the
// blob's directory and returns its name. The file is not synced nor renamed
// here: the commit that records it syncs its whole batch at once, which
// costs far less than one flush per file, and renames only synced files.
func (b *Backend) writeBlobFile(ctx context.Context, digest string, size int64, r io.Reader) (string, error) {
	check := backend.NewContentCheck(digest, size)
	name, err := b.writeTemp(ctx, filepath.Dir(b.blobPath(digest)), tmpPrefix+digest[2:]+"-", size, r, check)
	if err != nil {
		return "", fmt.Errorf("storing blob %s: %w", digest, err)
	}
	if err := check.Err(); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// writeTemp copies r (at most size+1 bytes) to a new temporary file in dir,
// whose name starts with prefix, and to sink, which sees every byte written; it
// returns the file's name. dir is created when missing (one mkdir per
// directory a store ever gets, not one per blob). A failed write removes
// the file.
func (b *Backend) writeTemp(ctx context.Context, dir, prefix string, size int64, r io.Reader, sink io.Writer) (name string, err error) {
	tmp, err := createTemp(dir, prefix)
	if errors.Is(err, fs.ErrNotExist) {
		if err := b.ensureBlobDir(dir); err != nil {
			return "", err
		}
		tmp, err = createTemp(dir, prefix)
	}
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	if _, err := io.CopyBuffer(io.MultiWriter(tmp, sink), backend.ReaderForCheck(ctx, r, size), *bp); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("reading its content: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return tmp.Name(), nil
}

// createTemp creates a new file, readable by its owner only, in dir with a
// name that starts with prefix and ends with a random suffix (as
// os.CreateTemp, in fewer system calls: see package diskfile).
func createTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := diskfile.CreateNew(filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)), 0o600)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}

// copyBufs holds the buffers blobs are copied through: 256 KiB, so a large
// file costs few read and write calls, and a fixed amount of memory however
// many blobs are stored at once.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// ingestDir is the directory, inside blobs/, where IngestBlob writes: the
// digest, hence the blobs/ab directory, of an ingested content is known
// only once it is written. Its temporary files are swept like the others.
const ingestDir = "in"

// IngestsFor implements backend.BlobIngester: true while the store holds
// no content for app, so that every file of the deploy is one to copy.
func (b *Backend) IngestsFor(ctx context.Context, app string) (bool, error) {
	if err := checkName("application id", app); err != nil {
		return false, err
	}
	if holds, known := b.holdsContent(ctx, app); known {
		return !holds, nil
	}
	appID, err := lookupApp(ctx, b.db, app)
	if errors.Is(err, backend.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var one int
	err = b.db.QueryRowContext(ctx, `SELECT 1 FROM blobs WHERE app_id = ? LIMIT 1`, appID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, dbErr(ctx, "checking what the store holds for app "+app, err)
	}
	return false, nil
}

// IngestBlob implements backend.BlobIngester: the content is hashed while
// it is written to a temporary file in blobs/in, then waits for SyncBlobs
// as a PutBlob's does (renamed into blobs/ab only once synced). A content
// the store already holds durably is not kept twice: its copy is dropped
// and the blob recorded for app at the next SyncBlobs.
func (b *Backend) IngestBlob(ctx context.Context, app string, size int64, r io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("storing a blob: %w", err)
	}
	if err := checkName("application id", app); err != nil {
		return "", err
	}
	if size < 0 {
		return "", fmt.Errorf("storing a blob: negative size %d", size)
	}
	check := backend.NewContentCheck("", size)
	tmp, err := b.writeTemp(ctx, filepath.Join(b.root, blobDir, ingestDir), tmpPrefix, size, r, check)
	if err != nil {
		return "", b.noSpace("storing a blob", fmt.Errorf("storing a blob: %w", err))
	}
	if err := check.SizeErr(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	digest := check.Sum()
	final := b.blobPath(digest)
	rec := &blobRecord{app: app, digest: digest, size: size, path: final, dir: filepath.Dir(final)}
	if rec.synced, err = b.isDurable(ctx, digest, size); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if rec.synced {
		os.Remove(tmp)
	} else {
		rec.tmp = tmp // its blobs/ab directory is made, if need be, when it is renamed
	}
	b.commit.add(rec)
	return digest, nil
}

// ensureBlobDir creates a directory of blobs/, making its creation durable
// before any blob inside it is recorded: where one syncfs commits a batch
// (Linux) that sync covers it; elsewhere blobs/ is synced now.
func (b *Backend) ensureBlobDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating blob directory: %w", err)
	}
	if syncsFileSystem {
		return nil
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("creating blob directory: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory so a rename or create inside it survives a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// OpenBlob implements backend.Contents: the blob must be recorded for app,
// so one app never reads another's content by guessing digests.
func (b *Backend) OpenBlob(ctx context.Context, app, digest string) (io.ReadCloser, error) {
	if err := checkDigest(digest); err != nil {
		return nil, err
	}
	held, err := recordedBlobs(ctx, b.db, app, []string{digest})
	if err != nil {
		return nil, err
	}
	if _, ok := held[digest]; !ok {
		return nil, fmt.Errorf("blob %s of app %s: %w", digest, app, backend.ErrNotFound)
	}
	f, err := os.Open(b.blobPath(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", digest, backend.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening blob %s: %w", digest, err)
	}
	return f, nil
}
