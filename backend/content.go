package backend

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// ContentCheck tells whether content is the blob it claims to be: the
// bytes written to it must number size and hash to digest. It is the one
// place that decides it, for a host receiving a blob, a host serving one
// and a check of a whole store.
type ContentCheck struct {
	digest string
	size   int64
	h      hash.Hash
	n      int64
}

// NewContentCheck returns a check of content claimed to be size bytes with
// the SHA-1 digest (lowercase hex).
func NewContentCheck(digest string, size int64) *ContentCheck {
	return &ContentCheck{digest: digest, size: size, h: sha1.New()}
}

// Write hashes p; it never fails.
func (c *ContentCheck) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// Err returns nil when what was written is the blob, else an error wrapping
// ErrDigestMismatch that says what differs.
func (c *ContentCheck) Err() error {
	if err := c.SizeErr(); err != nil {
		return err
	}
	if got := c.Sum(); got != c.digest {
		return fmt.Errorf("blob %s: the content's SHA-1 is %s: %w", c.digest, got, ErrDigestMismatch)
	}
	return nil
}

// SizeErr is Err's check of the length alone, for a host that learns the
// digest of a content from what was written (Sum) rather than beforehand.
func (c *ContentCheck) SizeErr() error {
	if c.n == c.size {
		return nil
	}
	more := ""
	if c.n > c.size {
		more = " or more" // readers stop one byte past size
	}
	what := "blob " + c.digest
	if c.digest == "" {
		what = "content"
	}
	return fmt.Errorf("%s: got %d bytes%s, want %d: %w", what, c.n, more, c.size, ErrDigestMismatch)
}

// Sum returns the SHA-1 (lowercase hex) of what was written.
func (c *ContentCheck) Sum() string { return hex.EncodeToString(c.h.Sum(nil)) }

// ReaderForCheck bounds r to one byte past size, enough to tell a longer
// stream from an exact one without reading a huge one to its end, and stops
// reading when ctx ends.
func ReaderForCheck(ctx context.Context, r io.Reader, size int64) io.Reader {
	return io.LimitReader(ctxReader{ctx, r}, size+1)
}

// ctxReader stops a long read when ctx ends.
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

// CheckContent reads r (at most size+1 bytes) and returns nil when it is
// the blob with that digest and size, an error wrapping ErrDigestMismatch
// when it is not, or the read error (ctx's when it ended).
func CheckContent(ctx context.Context, r io.Reader, digest string, size int64) error {
	c := NewContentCheck(digest, size)
	if _, err := io.Copy(c, ReaderForCheck(ctx, r, size)); err != nil {
		return err
	}
	return c.Err()
}
