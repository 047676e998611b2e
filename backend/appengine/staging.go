package appengine

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/backoff"
	"github.com/appcfg/appcfg/internal/crash"
)

const (
	// resumableThreshold is gcloud's: larger files use a resumable upload.
	resumableThreshold = 5 << 20
	// chunkSize is the resumable chunk, a multiple of 256 KiB; one chunk
	// is held in memory so it can be resent after a failure.
	chunkSize = 8 << 20
	// expiryMargin is gcloud's: an object lifecycle deletes within a day
	// counts as missing, so it cannot vanish during the deploy.
	expiryMargin = 24 * time.Hour
	// probeLimit: up to this many digests are checked one object at a
	// time; more list the bucket.
	probeLimit = 64
)

// bucketInfo is what the staging code needs to know about a project.
type bucketInfo struct {
	once sync.Once
	err  error
	name string        // the code bucket
	ttl  time.Duration // lifecycle deletion age; 0 when none
	// named is closed once name is set, before the lifecycle is read
	// (Prefetch lists the bucket meanwhile).
	named chan struct{}

	// seen holds the objects this backend found fresh or uploaded, so
	// CreateVersion's check of the manifest need not list the bucket
	// again moments after the deploy did.
	mu   sync.Mutex
	seen map[string]bool
}

func (bi *bucketInfo) markSeen(digests ...string) {
	bi.mu.Lock()
	defer bi.mu.Unlock()
	if bi.seen == nil {
		bi.seen = map[string]bool{}
	}
	for _, d := range digests {
		bi.seen[d] = true
	}
}

// has reports whether digest is known to be in the bucket.
func (bi *bucketInfo) has(digest string) bool {
	bi.mu.Lock()
	defer bi.mu.Unlock()
	return bi.seen[digest]
}

// unseen returns the digests not known to be in the bucket.
func (bi *bucketInfo) unseen(digests []string) []string {
	bi.mu.Lock()
	defer bi.mu.Unlock()
	var out []string
	for _, d := range digests {
		if !bi.seen[d] {
			out = append(out, d)
		}
	}
	return out
}

// codeBucket returns the project's staging bucket and its lifecycle TTL,
// read once per backend (GET apps/{p}, GET b/{bucket}?fields=lifecycle).
func (b *Backend) codeBucket(ctx context.Context, project string) (*bucketInfo, error) {
	return b.loadedBucket(ctx, project, b.bucketEntry(project))
}

// bucketEntry returns the project's bucketInfo, loaded or not.
func (b *Backend) bucketEntry(project string) *bucketInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	bi := b.buckets[project]
	if bi == nil {
		bi = &bucketInfo{named: make(chan struct{})}
		b.buckets[project] = bi
	}
	return bi
}

// loadedBucket loads bi, the project's entry, once.
func (b *Backend) loadedBucket(ctx context.Context, project string, bi *bucketInfo) (*bucketInfo, error) {
	bi.once.Do(func() { bi.err = b.loadBucket(ctx, project, bi) })
	if bi.err != nil {
		// A failure (or a cancelled ctx) must not stick: retry next call.
		b.mu.Lock()
		if b.buckets[project] == bi {
			delete(b.buckets, project)
		}
		b.mu.Unlock()
		return nil, bi.err
	}
	return bi, nil
}

// appInfo is the part of the Application resource the deploy needs.
type appInfo struct {
	CodeBucket    string `json:"codeBucket"`
	ServingStatus string `json:"servingStatus"`
}

func (b *Backend) getApp(ctx context.Context, project string) (appInfo, error) {
	var app appInfo
	err := b.do(ctx, request{api: apiAdmin, method: "GET", url: b.adminURL("apps/%s", project), out: &app, idempotent: true})
	return app, err
}

// loadBucket reads the code bucket, creating the application first when
// Options.CreateApp names a region, and repairing an application that lost
// its bucket (apps:repair), as gcloud's deploy does.
func (b *Backend) loadBucket(ctx context.Context, project string, bi *bucketInfo) error {
	app, err := b.getApp(ctx, project)
	if errors.Is(err, backend.ErrNotFound) {
		if b.createApp == "" {
			return fmt.Errorf("project %s has no App Engine application yet: create it in a region with --create_app REGION (for example --create_app us-central) or `gcloud app create --project %s` (%w)", project, project, err)
		}
		if err := b.createApplication(ctx, project); err != nil {
			return err
		}
		app, err = b.getApp(ctx, project)
	}
	if err != nil {
		return err
	}
	if app.ServingStatus == "USER_DISABLED" || app.ServingStatus == "SYSTEM_DISABLED" {
		return fmt.Errorf("the App Engine application of %s is disabled (%s): enable it in the console first", project, app.ServingStatus)
	}
	if app.CodeBucket == "" {
		if app, err = b.repairApplication(ctx, project); err != nil {
			return err
		}
	}
	bi.name = app.CodeBucket
	close(bi.named)
	var bucket struct {
		Lifecycle struct {
			Rule []struct {
				Action    struct{ Type string } `json:"action"`
				Condition struct {
					Age *int `json:"age"`
				} `json:"condition"`
			} `json:"rule"`
		} `json:"lifecycle"`
	}
	err = b.do(ctx, request{api: apiStorage, method: "GET", url: b.ep.Storage + "storage/v1/b/" + url.PathEscape(bi.name) + "?fields=lifecycle", out: &bucket, idempotent: true})
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == http.StatusForbidden {
		return nil // as gcloud: no permission to read the lifecycle means no TTL
	}
	if err != nil {
		return err
	}
	for _, r := range bucket.Lifecycle.Rule {
		if r.Action.Type == "Delete" && r.Condition.Age != nil {
			ttl := time.Duration(*r.Condition.Age) * 24 * time.Hour
			if bi.ttl == 0 || ttl < bi.ttl {
				bi.ttl = ttl
			}
		}
	}
	return nil
}

// createApplication is apps.create of project in region b.createApp.
func (b *Backend) createApplication(ctx context.Context, project string) error {
	var op operation
	err := b.do(ctx, request{api: apiAdmin, method: "POST", url: b.ep.AppEngine + "v1/apps", out: &op,
		body: map[string]any{"id": project, "locationId": b.createApp}})
	if err == nil {
		_, err = b.wait(ctx, apiAdmin, b.ep.AppEngine, op)
	}
	if err != nil {
		return fmt.Errorf("creating the App Engine application of %s in %s (a region cannot be changed later; list them with `gcloud app regions list`): %w", project, b.createApp, err)
	}
	return nil
}

// repairApplication is apps:repair, which recreates a deleted code bucket,
// then reads the application again.
func (b *Backend) repairApplication(ctx context.Context, project string) (appInfo, error) {
	var op operation
	err := b.do(ctx, request{api: apiAdmin, method: "POST", url: b.adminURL("apps/%s", project) + ":repair", body: map[string]any{}, out: &op})
	if err == nil {
		_, err = b.wait(ctx, apiAdmin, b.ep.AppEngine, op)
	}
	if err != nil {
		return appInfo{}, fmt.Errorf("the App Engine application of %s has no code bucket and repairing it failed (try `gcloud app repair --project %s`): %w", project, project, err)
	}
	app, err := b.getApp(ctx, project)
	if err != nil {
		return appInfo{}, err
	}
	if app.CodeBucket == "" {
		return appInfo{}, fmt.Errorf("the App Engine application of %s still has no code bucket after apps:repair: run `gcloud app repair --project %s` or ask Google Cloud support", project, project)
	}
	return app, nil
}

// fresh reports whether an object created at created survives the deploy.
func (b *Backend) fresh(bi *bucketInfo, created time.Time) bool {
	return bi.ttl == 0 || b.now().Sub(created) <= bi.ttl-expiryMargin
}

func validDigest(d string) error {
	if len(d) != 40 {
		return fmt.Errorf("%q is not a SHA-1 digest (40 lowercase hex digits)", d)
	}
	for _, r := range d {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return fmt.Errorf("%q is not a SHA-1 digest (40 lowercase hex digits)", d)
		}
	}
	return nil
}

type gcsObject struct {
	Name        string    `json:"name"`
	Size        string    `json:"size"`
	TimeCreated time.Time `json:"timeCreated"`
}

// MissingBlobs implements backend.Backend: the digests with no fresh object
// of that name at the code bucket's root.
func (b *Backend) MissingBlobs(ctx context.Context, app string, digests []string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(digests) == 0 {
		return nil, nil
	}
	for _, d := range digests {
		if err := validDigest(d); err != nil {
			return nil, err
		}
	}
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	bi, err := b.codeBucket(ctx, project)
	if err != nil {
		return nil, err
	}
	var present map[string]bool
	if len(digests) <= probeLimit {
		present, err = b.probe(ctx, bi, digests)
	} else {
		var ok bool
		present, ok, err = b.takeListing(ctx, project)
		if err == nil && !ok {
			present, err = b.listBucket(ctx, bi, nil, nil)
		}
	}
	if err != nil {
		return nil, err
	}
	var missing, found []string
	for _, d := range digests {
		if present[d] {
			found = append(found, d)
		} else {
			missing = append(missing, d)
		}
	}
	bi.markSeen(found...)
	return missing, nil
}

// probe GETs each object's metadata, a few at a time.
func (b *Backend) probe(ctx context.Context, bi *bucketInfo, digests []string) (map[string]bool, error) {
	present := make(map[string]bool, len(digests))
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, d := range digests {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var perr error
			defer func() {
				if perr != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, perr)
					mu.Unlock()
				}
			}()
			defer crash.Recover(&perr)
			var o gcsObject
			err := b.do(ctx, request{api: apiStorage, method: "GET", idempotent: true, out: &o,
				url: b.ep.Storage + "storage/v1/b/" + url.PathEscape(bi.name) + "/o/" + d + "?fields=name,size,timeCreated"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				present[d] = b.fresh(bi, o.TimeCreated)
			case errors.Is(err, backend.ErrNotFound):
			default:
				if firstErr == nil {
					firstErr = err
				}
			}
		}()
	}
	wg.Wait()
	return present, firstErr
}

// listBucket lists the objects whose names can be digests: those from "0"
// up to "g" (hex digits sort there; other names in the bucket are not
// listed). The rule, for the fewest requests without a long chain of pages:
// one page of 1,000 names first, which is the whole listing for a bucket of
// up to 1,000 objects. Digests are spread evenly over the hex range, so how
// far that page reached tells how many pages the rest holds: up to
// chainPages more are read as one chain of pages (gcloud reads every bucket
// so); a bigger bucket's rest is split by name (startOffset/endOffset) into
// ranges of about chainPages pages each, up to 16 listed at once, so a
// bucket that has gathered the objects of many deploys is read in
// parallel. (It was 16 listings by first hex digit, always: 16 requests
// where 2 do, and a server that walks the bucket per listing walked it 16
// times.)
//
// head, when not nil, is told after the first page whether it found the
// bucket empty: no object, no next page.
//
// ready, when not nil, is closed once bi's lifecycle is known: an object's
// freshness is judged after that (Prefetch lists while it is read).
func (b *Backend) listBucket(ctx context.Context, bi *bucketInfo, head func(empty bool), ready <-chan struct{}) (map[string]bool, error) {
	var (
		mu      sync.Mutex
		present = map[string]bool{}
	)
	add := func(o gcsObject) {
		if ready != nil {
			<-ready
		}
		if b.fresh(bi, o.TimeCreated) {
			mu.Lock()
			present[o.Name] = true
			mu.Unlock()
		}
	}
	first := nameRange{start: "0", end: "g"}
	next, last, err := b.listPage(ctx, bi, first, "", add)
	if err == nil && head != nil {
		head(next == "" && last == "")
	}
	if err == nil && next != "" {
		if ranges := restRanges(last, first.end); ranges == nil {
			// The rest fits in a short chain, or the page's end
			// says nothing of it: the chain goes on.
			err = b.listRange(ctx, bi, first, next, add)
		} else {
			err = b.listRanges(ctx, bi, ranges, add)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listing the staging bucket %s: %w", bi.name, err)
	}
	return present, nil
}

const (
	// listPageSize is the most names a listing page holds.
	listPageSize = 1000
	// chainPages is how many pages one chain reads after the first
	// before the rest is split into ranges listed at once.
	chainPages = 4
	// maxRanges bounds the listings run at once.
	maxRanges = 16
)

// nameRange is the names from start (included) to end (excluded).
type nameRange struct{ start, end string }

// restRanges splits the names from last (the last name the first page held)
// to end into ranges of about chainPages pages each. It returns nil when the
// rest is expected to fit in chainPages pages, and when last is not a hex
// name, so the page's reach cannot be read from it: the chain goes on. (The
// first range starts at last again, listed twice: a page token cannot be
// given a range.)
func restRanges(last, end string) []nameRange {
	reached, ok := hexFraction(last)
	if !ok || reached <= 0 {
		return nil
	}
	// The first page held listPageSize names spread over reached of the
	// range, so the rest holds about this many pages.
	pages := (1 - reached) / reached
	n := min(maxRanges, int(math.Ceil(pages/chainPages)))
	if n < 2 {
		return nil
	}
	out := make([]nameRange, 0, n)
	from := last
	for i := 1; i < n; i++ {
		to := hexAt(reached + (1-reached)*float64(i)/float64(n))
		if to <= from {
			continue
		}
		out = append(out, nameRange{from, to})
		from = to
	}
	return append(out, nameRange{from, end})
}

// hexFraction reads the first 8 characters of a lowercase hex name as a
// fraction of the hex range [0, 1).
func hexFraction(name string) (float64, bool) {
	if len(name) < 8 {
		return 0, false
	}
	v, err := strconv.ParseUint(name[:8], 16, 32)
	if err != nil || strings.ToLower(name[:8]) != name[:8] {
		return 0, false
	}
	return float64(v) / (1 << 32), true
}

// hexAt is the 8-digit hex name at fraction f of the hex range.
func hexAt(f float64) string {
	return fmt.Sprintf("%08x", uint64(min(f, 1)*(1<<32)-1))
}

// listRanges lists each range, all at once.
func (b *Backend) listRanges(ctx context.Context, bi *bucketInfo, ranges []nameRange, each func(gcsObject)) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ranges))
	for i, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer crash.Recover(&errs[i])
			errs[i] = b.listRange(ctx, bi, r, "", each)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// listRange lists the objects named in r, from page token on ("" for the
// first page), as one chain of pages.
func (b *Backend) listRange(ctx context.Context, bi *bucketInfo, r nameRange, token string, each func(gcsObject)) error {
	first := true
	return paginate(func(t string) (string, error) {
		if first {
			t, first = token, false
		}
		next, _, err := b.listPage(ctx, bi, r, t, each)
		return next, err
	})
}

// listPage lists one page of the objects named in r, and returns the next
// page's token and the last name it held.
func (b *Backend) listPage(ctx context.Context, bi *bucketInfo, r nameRange, token string, each func(gcsObject)) (next, last string, err error) {
	q := url.Values{"startOffset": {r.start}, "endOffset": {r.end}, "maxResults": {strconv.Itoa(listPageSize)},
		"fields": {"items(name,size,timeCreated),nextPageToken"}}
	if token != "" {
		q.Set("pageToken", token)
	}
	err = b.do(ctx, request{api: apiStorage, method: "GET", idempotent: true,
		url: b.ep.Storage + "storage/v1/b/" + url.PathEscape(bi.name) + "/o?" + q.Encode(),
		decode: func(body io.Reader) error {
			next, last = "", "" // a retried page starts afresh
			return decodeListing(body, func(o gcsObject) {
				each(o)
				last = o.Name
			}, &next)
		}})
	if err != nil {
		return "", "", err
	}
	return next, last, nil
}

// PutBlob implements backend.Backend: it verifies the content while reading
// it and sends nothing unverified, so a wrong digest or size stores nothing.
func (b *Backend) PutBlob(ctx context.Context, app, digest string, size int64, r io.Reader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validDigest(digest); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("blob %s: negative size %d", digest, size)
	}
	project, err := b.projectOf(app)
	if err != nil {
		return err
	}
	bi, err := b.codeBucket(ctx, project)
	if err != nil {
		return err
	}
	if err := b.uploads.acquire(ctx); err != nil {
		return err
	}
	defer b.uploads.release()
	v := &verifier{digest: digest, size: size, h: sha1.New()}
	if size <= resumableThreshold {
		err = b.simpleUpload(ctx, bi, v, r)
	} else {
		err = b.resumableUpload(ctx, bi, v, r)
	}
	if err == nil {
		bi.markSeen(digest)
	}
	return err
}

// verifier checks the bytes of a blob against its digest and size.
type verifier struct {
	digest string
	size   int64
	n      int64
	h      hash.Hash
}

// read fills buf from r (short only at EOF), counting and hashing.
func (v *verifier) read(ctx context.Context, r io.Reader, buf []byte) (int, bool, error) {
	n, err := io.ReadFull(r, buf)
	v.n += int64(n)
	v.h.Write(buf[:n])
	if cerr := ctx.Err(); cerr != nil {
		return n, false, cerr
	}
	switch {
	case err == nil:
		return n, false, nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	}
	if v.digest == "" {
		// IngestBlob: the digest is what the read is for.
		return n, false, fmt.Errorf("reading the content: %w", err)
	}
	return n, false, fmt.Errorf("reading blob %s: %w", v.digest, err)
}

// check runs at the end of the stream.
func (v *verifier) check(r io.Reader) error {
	if v.n != v.size {
		return fmt.Errorf("blob %s: read %d bytes, expected %d: %w", v.digest, v.n, v.size, backend.ErrDigestMismatch)
	}
	// One byte more than size means the stream is longer than declared.
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return fmt.Errorf("blob %s: the content is longer than %d bytes: %w", v.digest, v.size, backend.ErrDigestMismatch)
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.digest {
		return fmt.Errorf("blob %s: the content's SHA-1 is %s: %w", v.digest, got, backend.ErrDigestMismatch)
	}
	return nil
}

func (b *Backend) uploadURL(bi *bucketInfo, uploadType, digest string) string {
	return b.ep.Storage + "upload/storage/v1/b/" + url.PathEscape(bi.name) + "/o?" +
		url.Values{"uploadType": {uploadType}, "name": {digest}}.Encode()
}

// simpleUpload reads the whole (small) blob, verifies it, then sends it
// as one request, retried on failure. It is uploadType=media: the name is
// in the query and the body is the content itself, which the buffer the
// blob was verified in is sent from (multipart, as gcloud sends it, would
// copy every content into a second body that the server parses apart;
// the object stored is the same, application/octet-stream as before).
func (b *Backend) simpleUpload(ctx context.Context, bi *bucketInfo, v *verifier, r io.Reader) error {
	buf := make([]byte, v.size)
	n, _, err := v.read(ctx, r, buf)
	if err != nil {
		return err
	}
	if err := v.check(r); err != nil {
		return err
	}
	return b.sendMedia(ctx, bi, v, buf[:n])
}

// sendMedia sends content, verified against v, as one uploadType=media
// request.
func (b *Backend) sendMedia(ctx context.Context, bi *bucketInfo, v *verifier, content []byte) error {
	// Only the size stored is checked in the answer (an object resource
	// of a dozen fields), read in one pass (decodeObject).
	var out gcsObject
	err := b.sendUpload(ctx, "POST", b.uploadURL(bi, "media", v.digest), "application/octet-stream", content, nil,
		func(body io.Reader) error { out = gcsObject{}; return decodeObject(body, &out) })
	if err != nil {
		return err
	}
	if out.Size != "" && out.Size != strconv.FormatInt(v.size, 10) {
		return fmt.Errorf("uploading blob %s: the bucket stored %s bytes, expected %d", v.digest, out.Size, v.size)
	}
	return nil
}

// sendUpload sends one upload request with retries (an upload of a
// content-addressed object is idempotent) and feeds 429/503 to the limiter;
// decode reads a successful answer.
func (b *Backend) sendUpload(ctx context.Context, method, u, contentType string, body []byte, hdr http.Header, decode func(io.Reader) error) error {
	var last error
	for try := 0; try < b.retry.attempts; try++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", contentType)
		for k, vs := range hdr {
			req.Header[k] = vs
		}
		resp, err := b.hc.Do(req)
		wait := time.Duration(0)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("uploading to %s: %w", stripQuery(u), ctx.Err())
			}
			last = fmt.Errorf("%s: uploading to %s: %w", apiStorage, stripQuery(u), err)
		} else {
			last = decodeResponse(resp, request{api: apiStorage, method: method, url: u, decode: decode})
			if last == nil {
				b.uploads.succeeded()
				return nil
			}
			var ae *APIError
			if !errors.As(last, &ae) || !retryable(ae.Code) {
				return last
			}
			wait = backoff.RetryAfter(resp.Header)
			if throttled(ae.Code) {
				b.uploads.throttle(wait)
			}
		}
		if try+1 < b.retry.attempts {
			if d := b.retry.backoff(try); d > wait {
				wait = d
			}
			if err := backoff.Sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
	return last
}

// resumableUpload sends a large blob in chunks. Each chunk is held in
// memory until the server confirms it; after a failure the session's
// status is asked and the upload resumes where the server stopped. The last
// chunk is sent only once the whole stream has been verified. The session
// is kept in Options.SessionDir until the object is stored, so a later run
// resumes it too: the bytes the server holds are read and hashed, not sent.
func (b *Backend) resumableUpload(ctx context.Context, bi *bucketInfo, v *verifier, r io.Reader) error {
	session, offset := "", int64(0) // offset: bytes the server holds
	if saved := b.loadSession(bi.name, v.digest, v.size); saved != "" {
		held, complete, err := b.sessionState(ctx, saved, v.size)
		switch {
		case err == nil && complete:
			// Stored by an earlier run, which verified the content
			// before its last byte left.
			b.forgetSession(bi.name, v.digest)
			return nil
		case err == nil:
			session, offset = saved, held
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			// Expired, cancelled or unreadable: start afresh.
			b.forgetSession(bi.name, v.digest)
		}
	}
	if session == "" {
		var err error
		if session, err = b.startSession(ctx, bi, v); err != nil {
			return err
		}
		// Keeping the session only saves time in a later run; failing
		// to keep it must not fail this upload.
		_ = b.saveSession(bi.name, v.digest, v.size, session)
	}
	buf := make([]byte, chunkSize)
	for skipped := int64(0); skipped < offset; {
		n, eof, err := v.read(ctx, r, buf[:min(int64(len(buf)), offset-skipped)])
		if err != nil {
			return err
		}
		skipped += int64(n)
		if eof && skipped < offset {
			return v.check(r) // shorter than declared: a mismatch
		}
	}
	for {
		n, eof, err := v.read(ctx, r, buf)
		if err != nil {
			return err
		}
		if !eof && offset+int64(n) >= v.size {
			// The declared size is reached without EOF: the next
			// read tells whether the stream is longer.
			eof = true
		}
		if eof {
			if err := v.check(r); err != nil {
				return err
			}
		}
		chunk := buf[:n]
		if err := b.putChunk(ctx, session, v, offset, chunk, eof); err != nil {
			var ae *APIError
			if errors.As(err, &ae) && (ae.Code == http.StatusNotFound || ae.Code == http.StatusGone) {
				b.forgetSession(bi.name, v.digest)
			}
			return err
		}
		offset += int64(n)
		if eof {
			b.forgetSession(bi.name, v.digest)
			return nil
		}
	}
}

func (b *Backend) startSession(ctx context.Context, bi *bucketInfo, v *verifier) (string, error) {
	var session string
	err := b.retryLoop(ctx, func() (bool, error) {
		req, err := http.NewRequestWithContext(ctx, "POST", b.uploadURL(bi, "resumable", v.digest), strings.NewReader(fmt.Sprintf(`{"name":%q}`, v.digest)))
		if err != nil {
			return false, err
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("X-Upload-Content-Type", "application/octet-stream")
		req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(v.size, 10))
		resp, err := b.hc.Do(req)
		if err != nil {
			return true, err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode/100 != 2 {
			return b.noteStatus(resp), apiError(apiStorage, "POST", req.URL.String(), resp.StatusCode, data)
		}
		loc, err := resp.Location()
		if err != nil {
			return false, fmt.Errorf("%s: the resumable upload of %s got no session URL", apiStorage, v.digest)
		}
		session = loc.String()
		return false, nil
	})
	return session, err
}

// putChunk sends chunk at offset, resuming after failures from what the
// server reports it holds.
func (b *Backend) putChunk(ctx context.Context, session string, v *verifier, offset int64, chunk []byte, last bool) error {
	sent := int64(0) // bytes of chunk the server holds
	return b.retryLoop(ctx, func() (bool, error) {
		part := chunk[sent:]
		if len(part) == 0 && !last {
			return false, nil // the server already holds this chunk
		}
		req, err := http.NewRequestWithContext(ctx, "PUT", session, bytes.NewReader(part))
		if err != nil {
			return false, err
		}
		start := offset + sent
		total := "*"
		if last {
			total = strconv.FormatInt(v.size, 10)
		}
		if len(part) == 0 {
			req.Header.Set("Content-Range", "bytes */"+total)
		} else {
			req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%s", start, start+int64(len(part))-1, total))
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := b.hc.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				if held, _, qerr := b.sessionState(ctx, session, v.size); qerr == nil && held >= offset {
					sent = min(held-offset, int64(len(chunk)))
				}
			}
			return true, err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		switch {
		case resp.StatusCode == http.StatusPermanentRedirect && !last:
			return false, nil
		case resp.StatusCode/100 == 2 && last:
			b.uploads.succeeded()
			return false, nil
		case resp.StatusCode == http.StatusPermanentRedirect || resp.StatusCode/100 == 2:
			return false, fmt.Errorf("%s: the resumable upload of %s ended unexpectedly (status %d)", apiStorage, v.digest, resp.StatusCode)
		}
		retry := b.noteStatus(resp)
		if retry {
			if held, _, qerr := b.sessionState(ctx, session, v.size); qerr == nil && held >= offset {
				sent = min(held-offset, int64(len(chunk)))
			}
		}
		return retry, apiError(apiStorage, "PUT", stripQuery(session), resp.StatusCode, data)
	})
}

// noteStatus tells the limiter about throttling and says whether the status
// is worth retrying.
func (b *Backend) noteStatus(resp *http.Response) bool {
	if throttled(resp.StatusCode) {
		b.uploads.throttle(backoff.RetryAfter(resp.Header))
	}
	return retryable(resp.StatusCode)
}

// retryLoop runs f until it succeeds, fails for good, or runs out of tries.
func (b *Backend) retryLoop(ctx context.Context, f func() (retry bool, err error)) error {
	var last error
	for try := 0; try < b.retry.attempts; try++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		retry, err := f()
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("%v: %w", err, cerr)
		}
		last = err
		if !retry {
			return err
		}
		if try+1 < b.retry.attempts {
			if err := backoff.Sleep(ctx, b.retry.backoff(try)); err != nil {
				return err
			}
		}
	}
	return last
}

// limiter bounds concurrent uploads, adapting to the server: it halves the
// limit on 429/503 (and pauses for Retry-After), and grows it back by one
// after as many successes as the limit.
type limiter struct {
	max int

	mu        sync.Mutex
	limit     int
	inUse     int
	ok        int
	pauseTill time.Time
	changed   chan struct{}
}

func newLimiter(n int) *limiter {
	return &limiter{max: n, limit: n, changed: make(chan struct{})}
}

func (l *limiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		wait := time.Until(l.pauseTill)
		if l.inUse < l.limit && wait <= 0 {
			l.inUse++
			l.mu.Unlock()
			return nil
		}
		ch := l.changed
		l.mu.Unlock()
		var timer <-chan time.Time
		if wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-timer:
		}
	}
}

func (l *limiter) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *limiter) release() {
	l.mu.Lock()
	l.inUse--
	l.broadcast()
	l.mu.Unlock()
}

func (l *limiter) succeeded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ok++
	if l.ok >= l.limit && l.limit < l.max {
		l.limit++
		l.ok = 0
		l.broadcast()
	}
}

func (l *limiter) throttle(retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = max(1, l.limit/2)
	l.ok = 0
	if retryAfter > 0 {
		if t := time.Now().Add(retryAfter); t.After(l.pauseTill) {
			l.pauseTill = t
		}
	}
}

// current returns the limit, for tests and --verbose.
func (l *limiter) current() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}
