package appengine

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/appcfg/appcfg/backend"
)

// IngestsFor implements backend.BlobIngester: true when the project holds
// nothing a deploy could reuse, so that every file is sent and none need be
// read first only to be hashed: the first deploy of an application. That
// is when the project has no service, so no version can be live as it is
// (LiveAsIs), and the listing Prefetch started found no object in the code
// bucket (its first page is enough). The services are those the deploy's
// count of versions (upload's makeRoom) read moments before, else read
// now; a project with services is answered at once, without waiting for
// the listing. Without a listing under way, or when a read fails, the
// deploy hashes first, as usual. (A service deployed meanwhile by someone
// else costs this deploy the uploads a hash-first one might have skipped,
// never a wrong version.)
func (b *Backend) IngestsFor(ctx context.Context, app string) (bool, error) {
	project, err := b.projectOf(app)
	if err != nil {
		return false, err
	}
	b.mu.Lock()
	l := b.pending[project]
	none, known := b.noServices[project]
	b.mu.Unlock()
	if l == nil {
		return false, nil
	}
	if !known {
		svcs, err := b.services(ctx, project)
		if err != nil {
			return false, ctx.Err() // only a cancellation stops the deploy
		}
		none = len(svcs) == 0
	}
	if !none {
		return false, nil
	}
	select {
	case <-l.head:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if !l.empty {
		return false, nil
	}
	// Every file is sent now: a listing of the bucket as it was is of no
	// use to the deploys that follow (another service of the same
	// update), which list it afresh.
	b.mu.Lock()
	if b.pending[project] == l {
		delete(b.pending, project)
	}
	b.mu.Unlock()
	return true, nil
}

// IngestBlob implements backend.BlobIngester: the content's name in the
// bucket is its SHA-1, so it is read whole and hashed before it is sent,
// from the buffer it was read into (a file is read once, not hashed, then
// read again to be sent). A content above resumableThreshold is hashed
// as it is read, then read again from the start as PutBlob reads it (r is
// a file: an io.Seeker; another reader is held in memory, up to App
// Engine's 32 MiB a file). A content this backend stored already (the
// same bytes in two files) is not sent again.
func (b *Backend) IngestBlob(ctx context.Context, app string, size int64, r io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if size < 0 {
		return "", fmt.Errorf("negative size %d", size)
	}
	project, err := b.projectOf(app)
	if err != nil {
		return "", err
	}
	bi, err := b.codeBucket(ctx, project)
	if err != nil {
		return "", err
	}
	if err := b.uploads.acquire(ctx); err != nil {
		return "", err
	}
	defer b.uploads.release()
	v := &verifier{size: size, h: sha1.New()}
	rs, seekable := r.(io.ReadSeeker)
	if size <= resumableThreshold || !seekable {
		buf := make([]byte, size)
		n, _, err := v.read(ctx, r, buf)
		if err != nil {
			return "", err
		}
		v.digest = hex.EncodeToString(v.h.Sum(nil))
		if err := v.check(r); err != nil {
			return "", err
		}
		switch {
		case bi.has(v.digest):
		case size <= resumableThreshold:
			err = b.sendMedia(ctx, bi, v, buf[:n])
		default:
			v = &verifier{digest: v.digest, size: size, h: sha1.New()}
			err = b.resumableUpload(ctx, bi, v, bytes.NewReader(buf[:n]))
		}
		if err != nil {
			return "", err
		}
		bi.markSeen(v.digest)
		return v.digest, nil
	}
	// A large file: hashed through a small buffer, then sent from the
	// start, checked again as it goes (it may change in between).
	buf := make([]byte, 256<<10)
	for {
		_, eof, err := v.read(ctx, rs, buf)
		if err != nil {
			return "", err
		}
		if eof || v.n >= size {
			break
		}
	}
	v.digest = hex.EncodeToString(v.h.Sum(nil))
	if err := v.check(rs); err != nil {
		return "", err
	}
	if !bi.has(v.digest) {
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			return "", fmt.Errorf("reading blob %s again: %w", v.digest, err)
		}
		if err := b.resumableUpload(ctx, bi, &verifier{digest: v.digest, size: size, h: sha1.New()}, rs); err != nil {
			return "", err
		}
	}
	bi.markSeen(v.digest)
	return v.digest, nil
}

// The backend is no BlobSyncer: Cloud Storage answers an upload once the
// object is stored durably, so there is no batch to confirm (and a deploy
// need not wait for its uploads under way every 64 MiB to confirm one).
var _ backend.BlobIngester = (*Backend)(nil)
