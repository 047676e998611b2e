package upload

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/companion"
	"github.com/appcfg/appcfg/internal/appmodel"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/progress"
	"github.com/appcfg/appcfg/internal/testtree"
)

// host is a backend that deploys: what the tests' wrappers embed, so they
// hide the local store's other capabilities (locks, versions) unless they
// add them.
type host interface {
	backend.Backend
	backend.Deployer
	backend.BlobSyncer
}

func openLocal(t *testing.T) host {
	t.Helper()
	dir := t.TempDir()
	b, err := local.NewFactory().Open(context.Background(), "local:"+dir, dir, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.(host)
}

// writeApp writes n files with distinct contents (and one duplicate) and
// returns them as an upload set.
func writeApp(t *testing.T, n int) (string, []File) {
	t.Helper()
	dir := t.TempDir()
	var files []File
	for i := range n {
		rel := fmt.Sprintf("d%d/f%03d.txt", i%3, i)
		body := fmt.Sprintf("content of file %d\n", i)
		if i == n-1 {
			body = "content of file 0\n" // same content as f000: one blob, two paths
		}
		files = append(files, writeFile(t, dir, rel, body))
	}
	return dir, files
}

func writeFile(t *testing.T, dir, rel, body string) File {
	t.Helper()
	testtree.WriteFile(t, dir, rel, body)
	return writtenFile(t, dir, rel)
}

// writtenFile is the file rel of the app dir as a walk lists it now.
func writtenFile(t *testing.T, dir, rel string) File {
	t.Helper()
	abs := filepath.Join(dir, filepath.FromSlash(rel))
	info, err := os.Stat(abs) // as the walk would have: Size is read from it
	if err != nil {
		t.Fatal(err)
	}
	return File{Path: rel, Info: info}
}

func baseOptions(dir string, files []File) Options {
	return Options{App: "app", Service: "default", Version: "v1", Runtime: "python27",
		Model: &appmodel.App{Runtime: "python27"}, Files: files, Root: dir, HashWorkers: 4, UploadWorkers: 4,
		Owner: backend.Owner{User: "tester", Host: "here", PID: 1}}
}

func TestDeployThenRedeploySendsNothing(t *testing.T) {
	ctx := context.Background()
	b := openLocal(t)
	dir, files := writeApp(t, 20)
	res, err := Deploy(ctx, b, baseOptions(dir, files), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 20 || res.Blobs != 19 || res.Missing != 19 || !res.Promoted {
		t.Fatalf("first deploy: %+v", res)
	}
	v, err := b.(backend.Versions).Version(ctx, "app", "default", "v1")
	if err != nil || v.Traffic != 1 || v.Files != 20 {
		t.Fatalf("deployed version %+v, %v", v, err)
	}
	res, err = Deploy(ctx, b, baseOptions(dir, files), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Missing != 0 || len(res.Uploaded) != 0 {
		t.Fatalf("redeploy sent %d blobs: %v", res.Missing, res.Uploaded)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	ctx := context.Background()
	b := openLocal(t)
	dir, files := writeApp(t, 5)
	opts := baseOptions(dir, files)
	opts.DryRun = true
	res, err := Deploy(ctx, b, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Missing != 4 || res.Deployed != nil { // 5 files, 4 contents
		t.Fatalf("dry run: %+v", res)
	}
	if vs, _ := b.(backend.Versions).ListVersions(ctx, "app", ""); len(vs) != 0 {
		t.Fatalf("dry run created versions: %+v", vs)
	}
	digests := make([]string, 0, len(files))
	for _, f := range files {
		sum, _, err := hashcache.HashFile(ctx, f.Abs(dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, sum)
	}
	miss, err := b.MissingBlobs(ctx, "app", digests)
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]bool{}
	for _, d := range miss {
		missing[d] = true
	}
	for _, d := range digests {
		if !missing[d] {
			t.Fatalf("dry run stored blob %s", d)
		}
	}
}

// cancelAfter cancels the deploy once n blobs have been stored, as a Ctrl-C
// in the middle of the upload would.
type cancelAfter struct {
	host
	n      int64
	puts   atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) PutBlob(ctx context.Context, app, digest string, size int64, r io.Reader) error {
	if err := c.host.PutBlob(ctx, app, digest, size, r); err != nil {
		return err
	}
	if c.puts.Add(1) == c.n {
		c.cancel()
	}
	return nil
}

func TestInterruptedDeployResumes(t *testing.T) {
	b := openLocal(t)
	dir, files := writeApp(t, 40)
	ctx, cancel := context.WithCancel(context.Background())
	cut := &cancelAfter{host: b, n: 10, cancel: cancel}
	opts := baseOptions(dir, files)
	opts.UploadWorkers = 1
	if _, err := Deploy(ctx, cut, opts, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted deploy returned %v", err)
	}
	stored := cut.puts.Load()
	res, err := Deploy(context.Background(), b, baseOptions(dir, files), nil)
	if err != nil {
		t.Fatal(err)
	}
	if int64(res.Missing) != 39-stored {
		t.Fatalf("resume sent %d blobs; %d of 39 were already stored", res.Missing, stored)
	}
}

func TestLockedVersionIsRefusedUnlessStale(t *testing.T) {
	ctx := context.Background()
	b := openLocal(t)
	dir, files := writeApp(t, 3)
	l := b.(backend.Locker)
	key := backend.LockKey{App: "app", Service: "default", Version: "v1"}
	other := backend.Owner{User: "someone", Host: "elsewhere", PID: 42, Acquired: time.Now()}
	if _, err := l.AcquireLock(ctx, key, other, time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := Deploy(ctx, b, baseOptions(dir, files), nil)
	var le *backend.LockedError
	if !errors.As(err, &le) || le.Owner.User != "someone" || le.Owner.PID != 42 {
		t.Fatalf("deploy over a held lock returned %v", err)
	}
	opts := baseOptions(dir, files)
	opts.Stale = func(o backend.Owner) bool { return o.PID == 42 }
	if _, err := Deploy(ctx, b, opts, nil); err != nil {
		t.Fatalf("deploy over a stale lock: %v", err)
	}
	if o, err := l.BreakLock(ctx, key); err != nil || o != nil {
		t.Fatalf("lock left after deploy: %+v, %v", o, err)
	}
}

func TestFileChangedAfterListingIsAnError(t *testing.T) {
	b := openLocal(t)
	dir, files := writeApp(t, 3)
	writeFile(t, dir, files[1].Path, "a longer content than before\n")
	_, err := Deploy(context.Background(), b, baseOptions(dir, files), nil)
	if err == nil || !strings.Contains(err.Error(), files[1].Path) {
		t.Fatalf("got %v, want an error naming %s", err, files[1].Path)
	}
}

func TestHashesAreCachedForUnchangedFiles(t *testing.T) {
	ctx := context.Background()
	dir, files := writeApp(t, 4)
	// Files must look older than the racy window to be cached.
	old := time.Now().Add(-time.Hour)
	for i, f := range files {
		if err := os.Chtimes(f.Abs(dir), old, old); err != nil {
			t.Fatal(err)
		}
		files[i] = writtenFile(t, dir, f.Path) // listed after the change, as a walk would
	}
	cachePath := filepath.Join(t.TempDir(), "cache")
	c := hashcache.Open(cachePath)
	first, err := hashFiles(ctx, dir, files, 2, c, nil, progress.Nop{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	reloaded := hashcache.Open(cachePath)
	for i, f := range files {
		fi, err := os.Stat(f.Abs(dir))
		if err != nil {
			t.Fatal(err)
		}
		sum, ok := reloaded.Lookup(f.Path, hashcache.StatOf(fi))
		if !ok || sum != first.refs[i].SHA1 {
			t.Fatalf("%s: cache has %q (%v), hashed %s", f.Path, sum, ok, first.refs[i].SHA1)
		}
	}
}

// preflighted is a host that refuses flexible versions and does not take
// DoS configurations, and says so before anything is uploaded.
type preflighted struct {
	host
	backend.Versions
	backend.ConfigStore
	puts atomic.Int64
}

func newPreflighted(t *testing.T) *preflighted {
	b := openLocal(t)
	return &preflighted{host: b, Versions: b.(backend.Versions), ConfigStore: b.(backend.ConfigStore)}
}

func (p *preflighted) PutBlob(ctx context.Context, app, digest string, size int64, r io.Reader) error {
	p.puts.Add(1)
	return p.host.PutBlob(ctx, app, digest, size, r)
}

func (p *preflighted) CheckVersion(spec backend.VersionSpec) error {
	if spec.Model.Env == "flex" {
		return errors.New("this host does not deploy the flexible environment; deploy it with `gcloud app deploy`")
	}
	return nil
}

func (p *preflighted) CheckConfig(kind backend.ConfigKind) error {
	if kind == backend.ConfigDOS {
		return fmt.Errorf("dos.yaml was replaced by firewall rules: %w", backend.ErrUnsupported)
	}
	return nil
}

// warnCounter records, for each warning, how many blobs were stored when
// it was reported.
type warnCounter struct {
	progress.Reporter
	host  *preflighted
	warns []string
	at    []int64
}

func (w *warnCounter) Warn(msg string) {
	w.warns = append(w.warns, msg)
	w.at = append(w.at, w.host.puts.Load())
}

func TestCompanionTheHostDoesNotTakeIsAWarningBeforeUpload(t *testing.T) {
	ctx := context.Background()
	host := newPreflighted(t)
	dir, files := writeApp(t, 5)
	opts := baseOptions(dir, files)
	set := &companion.Set{App: "app"}
	for path, cfg := range map[string]any{
		"dos.yaml":      &appconfig.DOSInfo{Blacklist: []*appconfig.BlacklistEntry{{Subnet: "1.2.3.4"}}},
		"dispatch.yaml": &appconfig.DispatchInfo{Dispatch: []*appconfig.DispatchEntry{{URL: "*/a/*", Service: "default"}}},
	} {
		if err := set.Add(path, cfg); err != nil {
			t.Fatal(err)
		}
	}
	opts.Companions = set
	rep := &warnCounter{Reporter: progress.Or(nil), host: host}
	res, err := Deploy(ctx, host, opts, rep)
	if err != nil {
		t.Fatalf("deploy with an unsupported companion failed: %v", err)
	}
	if !res.Promoted || res.Deployed == nil {
		t.Fatalf("version not live: %+v", res)
	}
	if len(rep.warns) != 1 || !strings.Contains(rep.warns[0], "dos.yaml") || !strings.Contains(rep.warns[0], "firewall") || rep.at[0] != 0 {
		t.Fatalf("warnings %q (blobs stored when each was given: %v); want one naming dos.yaml and firewall rules, before any upload", rep.warns, rep.at)
	}
	if strings.Join(res.Pushed, ",") != "dispatch" || len(res.Warnings) != 1 {
		t.Errorf("pushed %v, warnings %v; want dispatch only and the one warning", res.Pushed, res.Warnings)
	}
}

func TestVersionTheHostRefusesStopsBeforeUpload(t *testing.T) {
	ctx := context.Background()
	host := newPreflighted(t)
	dir, files := writeApp(t, 5)
	opts := baseOptions(dir, files)
	opts.Model = &appmodel.App{Runtime: "custom", Env: "flex"}
	_, err := Deploy(ctx, host, opts, nil)
	if err == nil || !strings.Contains(err.Error(), "gcloud app deploy") {
		t.Fatalf("flexible deploy returned %v; want the host's refusal", err)
	}
	if n := host.puts.Load(); n != 0 {
		t.Errorf("%d blobs uploaded before the refusal", n)
	}
	if vs, _ := host.ListVersions(ctx, "app", ""); len(vs) != 0 {
		t.Errorf("versions after the refusal: %+v", vs)
	}
}

// TestRedeployResendsLostBlobs: an unchanged redeploy whose hashes all come
// from the stat cache still sends again every content the store lost
// behind its back (a blob file removed, truncated, or grown while its
// record stayed), and leaves the store whole.
func TestRedeployResendsLostBlobs(t *testing.T) {
	ctx := context.Background()
	store := t.TempDir()
	lb, err := local.NewFactory().Open(ctx, "local:"+store, store, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	dir, files := writeApp(t, 6)
	old := time.Now().Add(-time.Hour)
	for i := range files {
		if err := os.Chtimes(files[i].Abs(dir), old, old); err != nil {
			t.Fatal(err)
		}
		if files[i].Info, err = os.Lstat(files[i].Abs(dir)); err != nil {
			t.Fatal(err)
		}
	}
	opts := baseOptions(dir, files)
	cachePath := filepath.Join(t.TempDir(), "hashes")
	opts.Cache = hashcache.Open(cachePath)
	first, err := Deploy(ctx, lb, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	blobFile := func(f File) string {
		body, err := os.ReadFile(f.Abs(dir))
		if err != nil {
			t.Fatal(err)
		}
		d := fmt.Sprintf("%x", sha1.Sum(body))
		return filepath.Join(store, "blobs", d[:2], d[2:])
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Remove(blobFile(files[0])))
	must(os.Truncate(blobFile(files[1]), 3))
	must(os.Truncate(blobFile(files[2]), files[2].Size()+5))

	opts.Cache = hashcache.Open(cachePath)
	res, err := Deploy(ctx, lb, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Missing != 3 || res.Unchanged || !res.Promoted {
		t.Fatalf("redeploy after losing 3 blob files: missing %d (uploaded %v), unchanged %v, promoted %v; want the 3 sent again and the version promoted (first deploy: %d missing)",
			res.Missing, res.Uploaded, res.Unchanged, res.Promoted, first.Missing)
	}
	for _, f := range files[:3] {
		want, _ := os.ReadFile(f.Abs(dir))
		if got, err := os.ReadFile(blobFile(f)); err != nil || string(got) != string(want) {
			t.Errorf("%s: store holds %q (%v) after the redeploy, want %q", f.Path, got, err, want)
		}
	}
	again, err := Deploy(ctx, lb, opts, nil)
	if err != nil || again.Missing != 0 || !again.Unchanged {
		t.Fatalf("third deploy: %+v, %v; want nothing sent, unchanged", again, err)
	}
}

// TestUnchangedRedeployWritesNothing: redeploying a version that is live
// as it is takes no lock and commits nothing (the store's write-ahead log
// does not grow, and the versions stamp serve watches keeps its value);
// with another deploy of the version in flight it is still refused.
func TestUnchangedRedeployWritesNothing(t *testing.T) {
	ctx := context.Background()
	store := t.TempDir()
	lb, err := local.NewFactory().Open(ctx, "local:"+store, store, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	dir, files := writeApp(t, 8)
	if _, err := Deploy(ctx, lb, baseOptions(dir, files), nil); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		t.Helper()
		wal, err := os.Stat(filepath.Join(store, "appcfg.db-wal"))
		if err != nil {
			t.Fatal(err)
		}
		stamp, err := os.ReadFile(filepath.Join(store, "versions.stamp"))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("log of %d bytes, stamp %s", wal.Size(), stamp)
	}
	before := state()
	res, err := Deploy(ctx, lb, baseOptions(dir, files), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unchanged || !res.Promoted || res.Missing != 0 || res.Deployed == nil || res.Deployed.Traffic != 1 {
		t.Fatalf("unchanged redeploy: %+v, want unchanged, promoted, nothing sent, the version with all the traffic", res)
	}
	if after := state(); after != before {
		t.Errorf("an unchanged redeploy wrote to the store: %s before, %s after", before, after)
	}

	key := backend.LockKey{App: "app", Service: "default", Version: "v1"}
	other := backend.Owner{User: "someone", Host: "elsewhere", PID: 42, Acquired: time.Now()}
	if _, err := lb.(backend.Locker).AcquireLock(ctx, key, other, time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err = Deploy(ctx, lb, baseOptions(dir, files), nil)
	var le *backend.LockedError
	if !errors.As(err, &le) || le.Owner.User != "someone" {
		t.Fatalf("unchanged redeploy while another deploy holds the lock returned %v, want it refused", err)
	}
}

// TestCountDistinct: countDistinct's table counts as a map of the digests
// would, with no files, one content, all distinct, and a mix.
func TestCountDistinct(t *testing.T) {
	refs := func(digests ...string) []backend.FileRef {
		out := make([]backend.FileRef, len(digests))
		for i, d := range digests {
			out[i] = backend.FileRef{Path: fmt.Sprint("f", i), SHA1: d}
		}
		return out
	}
	var mixed []string
	for i := range 5000 {
		mixed = append(mixed, fmt.Sprintf("%040x", (i*7919)%1237))
	}
	for _, tc := range []struct {
		files []backend.FileRef
		want  int
	}{
		{nil, 0},
		{refs("a"), 1},
		{refs("a", "a", "a"), 1},
		{refs("", "a", "", "b"), 3},
		{refs("a", "b", "c", "d", "e"), 5},
		{refs(mixed...), 1237},
	} {
		if got := countDistinct(tc.files); got != tc.want {
			t.Errorf("countDistinct of %d files = %d, want %d", len(tc.files), got, tc.want)
		}
		// The wide slots of a list too long for 32 bits count alike.
		if got := countDistinctIn[int](tc.files); got != tc.want {
			t.Errorf("countDistinctIn[int] of %d files = %d, want %d", len(tc.files), got, tc.want)
		}
	}
}

// failingSyncer is a host whose confirmations fail.
type failingSyncer struct{}

func (failingSyncer) SyncBlobs(context.Context) error { return errors.New("the host is gone") }

// TestStorePoolEndsOnEarlyError: when Go returns an error (a confirmation
// due between batches failed, or a store did), the caller returns at once
// without Wait, so the pool must be done then: its workers end (they wait
// on its channel of stores, which is closed) rather than wait forever.
func TestStorePoolEndsOnEarlyError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(context.Context) error
	}{
		{"confirmation failed", func(context.Context) error { return nil }},
		{"store failed", func(context.Context) error { return errors.New("disk gone") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newStorePool(t.Context(), failingSyncer{}, 4)
			var err error
			for range 3 {
				if err = p.Go(syncEvery, tc.store); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("Go went on after a failure")
			}
			select {
			case _, ok := <-p.stores:
				if ok {
					t.Fatal("the pool handed out a store after Go's error")
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Go returned %v with the pool's workers still waiting for stores", err)
			}
		})
	}
}
