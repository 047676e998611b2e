package local

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/appcfg/appcfg/backend"
)

// blobDir is the directory of blob files inside a store's root.
const blobDir = "blobs"

// blobPath returns where the blob with digest lives: blobs/ab/cdef….
func (b *Backend) blobPath(digest string) string {
	return filepath.Join(b.root, blobDir, digest[:2], digest[2:])
}

// checkDigest refuses anything but 40 lowercase hex digits; a digest is also
// a file name, so this keeps paths inside the store.
func checkDigest(d string) error {
	if len(d) != 2*sha1.Size {
		return fmt.Errorf("%q is not a SHA-1 digest: want 40 lowercase hex digits", d)
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%q is not a SHA-1 digest: want 40 lowercase hex digits", d)
		}
	}
	return nil
}

// MissingBlobs returns the digests the store lacks for app, in the order
// given. A blob counts as held only when its row and its file both exist, so
// a file deleted by hand is sent again.
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
	// The records alone decide: a blob is recorded only after its file was
	// synced and renamed into place, and stat-ing every file would cost a
	// redeploy as much as the walk of the app itself. A file lost behind
	// the store's back is reported by OpenBlob and repaired by PutBlob.
	held, err := recordedBlobs(ctx, b.db, app, digests)
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
	want := make(map[string]bool, len(digests))
	for _, d := range digests {
		want[d] = true
	}
	for _, rec := range strings.Split(found, ",") {
		d, size, ok := strings.Cut(rec, " ")
		if !ok || !want[d] {
			continue
		}
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("blob %s in the store has a damaged size %q", d, size)
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
	var stored int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM blobs WHERE app_id = ?`, appID).Scan(&stored); err != nil {
		return "", dbErr(ctx, "checking which files the store lacks", err)
	}
	var found sql.NullString
	var err error
	if stored <= 4*len(digests) {
		// A deploy usually asks about most of what the app holds: reading
		// the app's whole list beats one index probe per digest.
		err = q.QueryRowContext(ctx, `SELECT group_concat(sha1 || ' ' || size, ',') FROM blobs WHERE app_id = ?`,
			appID).Scan(&found)
	} else {
		// The list travels as one JSON array, not thousands of parameters.
		list, jerr := json.Marshal(digests)
		if jerr != nil {
			return "", fmt.Errorf("checking which files the store lacks: %w", jerr)
		}
		err = q.QueryRowContext(ctx, `
SELECT group_concat(sha1 || ' ' || size, ',') FROM blobs
WHERE app_id = ? AND sha1 IN (SELECT value FROM json_each(?))`, appID, string(list)).Scan(&found)
	}
	if err != nil {
		return "", dbErr(ctx, "checking which files the store lacks", err)
	}
	return found.String, nil
}

// PutBlob stores a blob: written to a temporary file beside its final name,
// hashed while written, verified and renamed; then made durable (file data
// and directory) by the commit it shares with concurrent PutBlob calls, and
// only then recorded for app (see committer). A blob another app already
// recorded is only verified: its durable file is never replaced.
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
	durable, err := b.isDurable(ctx, digest, final)
	if err != nil {
		return err
	}
	if durable {
		if err := verifyStream(ctx, digest, size, r); err != nil {
			return err
		}
	} else if err := b.writeBlobFile(ctx, digest, size, r); err != nil {
		return err
	}
	return b.record(ctx, &blobRecord{app: app, digest: digest, size: size, path: final, dir: filepath.Dir(final), synced: durable})
}

// isDurable reports whether the blob's file is in place and recorded (for
// any app), hence already synced.
func (b *Backend) isDurable(ctx context.Context, digest, final string) (bool, error) {
	if _, err := os.Stat(final); err != nil {
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
	h := sha1.New()
	n, err := io.Copy(h, io.LimitReader(ctxReader{ctx, r}, size+1))
	if err != nil {
		return fmt.Errorf("storing blob %s: %w", digest, err)
	}
	if n != size {
		return fmt.Errorf("blob %s: got %d bytes or more, want %d: %w", digest, n, size, backend.ErrDigestMismatch)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("blob %s: the content's SHA-1 is %s: %w", digest, got, backend.ErrDigestMismatch)
	}
	return nil
}

// writeBlobFile puts the verified content in place. Two writers of the same
// blob each write their own temporary file; whichever renames last replaces
// identical content, so neither sees a partial file.
func (b *Backend) writeBlobFile(ctx context.Context, digest string, size int64, r io.Reader) (err error) {
	final := b.blobPath(digest)
	dir := filepath.Dir(final)
	if err := b.ensureBlobDir(dir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+digest[2:]+"-*")
	if err != nil {
		return fmt.Errorf("storing blob %s: %w", digest, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha1.New()
	// One byte past size tells a longer stream from an exact one.
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(ctxReader{ctx, r}, size+1))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("storing blob %s: %w", digest, ctx.Err())
		}
		return fmt.Errorf("storing blob %s: reading its content: %w", digest, err)
	}
	if n != size {
		return fmt.Errorf("blob %s: got %d bytes or more, want %d: %w", digest, n, size, backend.ErrDigestMismatch)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("blob %s: the content's SHA-1 is %s: %w", digest, got, backend.ErrDigestMismatch)
	}
	// No fsync here: the commit that records the blob syncs every file of
	// its batch at once, which costs far less than one flush per file.
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("storing blob %s: %w", digest, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("storing blob %s: %w", digest, err)
	}
	return nil
}

// ensureBlobDir creates a blobs/ab directory, making its creation durable
// before any blob inside it is recorded.
func (b *Backend) ensureBlobDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating blob directory: %w", err)
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

// ctxReader stops a long copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
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
