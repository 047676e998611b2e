package backendtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) contextTests() []subtest {
	return []subtest{
		{"CancelledBeforeCall", s.testCancelledBeforeCall},
		{"CancelledDuringPut", s.testCancelledDuringPut},
	}
}

// wantCanceled fails unless err wraps context.Canceled.
func wantCanceled(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%s with a cancelled context: got %v, want an error wrapping context.Canceled", what, err)
	}
}

func (s suite) testCancelledBeforeCall(t *testing.T) {
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	bs := newBlobs(t, 2)
	deploy(t, b, app, "default", "v1", bs[:1])
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := d.MissingBlobs(ctx, app, digests(bs))
	wantCanceled(t, "MissingBlobs", err)
	wantCanceled(t, "PutBlob", d.PutBlob(ctx, app, bs[1].digest, int64(len(bs[1].data)), bytes.NewReader(bs[1].data)))
	_, err = d.CreateVersion(ctx, backend.VersionSpec{App: app, Service: "default", Version: "v2", Files: []backend.FileRef{bs[0].ref("a")}})
	wantCanceled(t, "CreateVersion", err)
	if got := missing(t, b, app, []string{bs[1].digest}); len(got) != 1 {
		t.Errorf("a PutBlob with a cancelled context stored the blob")
	}
	if vs, ok := b.(backend.Versions); ok {
		_, err = vs.ListVersions(ctx, app, "")
		wantCanceled(t, "ListVersions", err)
		_, err = vs.Version(ctx, app, "default", "v1")
		wantCanceled(t, "Version", err)
		wantCanceled(t, "SetTraffic", vs.SetTraffic(ctx, app, "default", map[string]float64{"v1": 1}, false))
		wantCanceled(t, "SetServingStatus", vs.SetServingStatus(ctx, app, "default", "v1", backend.Stopped))
		wantCanceled(t, "DeleteVersion", vs.DeleteVersion(ctx, app, "default", "v1"))
		if _, err := vs.Version(t.Context(), app, "default", "v2"); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("a CreateVersion with a cancelled context left version v2 (Version: %v)", err)
		}
	}
	if lk, ok := b.(backend.Locker); ok {
		key := lockKey(app)
		_, err = lk.AcquireLock(ctx, key, alice, lease)
		wantCanceled(t, "AcquireLock", err)
		wantCanceled(t, "RenewLock", lk.RenewLock(ctx, key, "t", lease))
		wantCanceled(t, "ReleaseLock", lk.ReleaseLock(ctx, key, "t"))
		_, err = lk.BreakLock(ctx, key)
		wantCanceled(t, "BreakLock", err)
	}
	if cs, ok := b.(backend.ConfigStore); ok {
		wantCanceled(t, "PutConfig", cs.PutConfig(ctx, app, backend.ConfigCron, []byte("cron: []\n")))
		_, err = cs.Config(ctx, app, backend.ConfigCron)
		wantCanceled(t, "Config", err)
	}
	if im, ok := b.(backend.IndexManager); ok {
		_, err = im.ListIndexes(ctx, app)
		wantCanceled(t, "ListIndexes", err)
		_, err = im.CreateIndexes(ctx, app, []backend.IndexDef{greetingByDate})
		wantCanceled(t, "CreateIndexes", err)
		wantCanceled(t, "DeleteIndex", im.DeleteIndex(ctx, app, "x"))
	}
}

// cancellingReader cancels its context after handing out its first chunk,
// as a Ctrl-C half-way through an upload does.
type cancellingReader struct {
	r      io.Reader
	cancel context.CancelFunc
	reads  int
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	c.reads++
	if c.reads == 2 {
		c.cancel()
	}
	if len(p) > 1024 {
		p = p[:1024]
	}
	return c.r.Read(p)
}

func (s suite) testCancelledDuringPut(t *testing.T) {
	b, app := s.open(t), newApp(t)
	d := deployer(t, b)
	data := bytes.Repeat([]byte(app+" cancelled upload\n"), 4096)
	bl := newBlob(string(data))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := d.PutBlob(ctx, app, bl.digest, int64(len(data)), &cancellingReader{r: bytes.NewReader(data), cancel: cancel})
	wantCanceled(t, "PutBlob cancelled half-way", err)
	if got := missing(t, b, app, []string{bl.digest}); len(got) != 1 {
		t.Fatalf("a PutBlob cancelled half-way stored the blob")
	}
	putBlob(t, b, app, bl) // and the next deploy can still send it
}
