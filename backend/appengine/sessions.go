package appengine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// savedSession is a resumable upload session kept on disk between runs, so
// a deploy interrupted in the middle of a large file resumes it where
// Cloud Storage stopped instead of sending it again. The session URI is a
// bearer capability for that one object, hence mode 0600.
type savedSession struct {
	Bucket  string `json:"bucket"`
	Object  string `json:"object"`
	Size    int64  `json:"size"`
	Session string `json:"session"`
}

// sessionFile is where the session of (bucket, object) is kept, or "" when
// Options.SessionDir is unset.
func (b *Backend) sessionFile(bucket, object string) string {
	if b.sessions == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(bucket + "/" + object))
	return filepath.Join(b.sessions, hex.EncodeToString(sum[:16])+".json")
}

// loadSession returns the saved session for (bucket, object) of that size,
// or "" when there is none (or it is unreadable: a fresh session is as
// good, only slower).
func (b *Backend) loadSession(bucket, object string, size int64) string {
	file := b.sessionFile(bucket, object)
	if file == "" {
		return ""
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	var s savedSession
	if json.Unmarshal(data, &s) != nil || s.Bucket != bucket || s.Object != object || s.Size != size || s.Session == "" {
		return ""
	}
	return s.Session
}

// saveSession records a session, written to a temp file then renamed so a
// crash never leaves half a record.
func (b *Backend) saveSession(bucket, object string, size int64, session string) error {
	file := b.sessionFile(bucket, object)
	if file == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("keeping the upload session of %s: %w", object, err)
	}
	data, err := json.Marshal(savedSession{Bucket: bucket, Object: object, Size: size, Session: session})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".session-*")
	if err != nil {
		return fmt.Errorf("keeping the upload session of %s: %w", object, err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return fmt.Errorf("keeping the upload session of %s: %w", object, err)
	}
	return nil
}

// forgetSession removes the record of a finished or dead session.
func (b *Backend) forgetSession(bucket, object string) {
	if file := b.sessionFile(bucket, object); file != "" {
		os.Remove(file)
	}
}

// errSessionGone is a saved session that Cloud Storage no longer knows
// (expired after a week, or cancelled): start a new one.
var errSessionGone = errors.New("the upload session is gone")

// sessionState asks a session how many bytes it holds; complete is true
// when the object is already stored. A 404 or 410 is errSessionGone.
func (b *Backend) sessionState(ctx context.Context, session string, size int64) (held int64, complete bool, err error) {
	req, err := http.NewRequestWithContext(ctx, "PUT", session, nil)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, false, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return size, true, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return 0, false, errSessionGone
	case resp.StatusCode != http.StatusPermanentRedirect:
		return 0, false, fmt.Errorf("the upload session's status query answered %d", resp.StatusCode)
	}
	rg := resp.Header.Get("Range") // bytes=0-N, absent when nothing is held
	if rg == "" {
		return 0, false, nil
	}
	_, end, ok := strings.Cut(strings.TrimPrefix(rg, "bytes="), "-")
	n, err := strconv.ParseInt(end, 10, 64)
	if !ok || err != nil || n+1 > size {
		return 0, false, fmt.Errorf("the upload session answered a bad Range %q", rg)
	}
	return n + 1, false, nil
}
