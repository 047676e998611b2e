package local

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/backendtest"
	"github.com/appcfg/appcfg/internal/appmodel"
)

func TestMain(m *testing.M) {
	// The two-process test runs this binary a second time as a worker.
	if dir := os.Getenv(helperDirEnv); dir != "" {
		os.Exit(runHelper(dir, os.Getenv(helperWhoEnv)))
	}
	os.Exit(m.Run())
}

// openAt opens a store in dir and closes it when the test ends.
func openAt(t testing.TB, dir string) *Backend {
	t.Helper()
	b, err := Open(t.Context(), "", Config{Root: dir}, backend.Env{User: "tester@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// suiteOptions lose a blob by removing its file, as a user or a disk error
// would.
var suiteOptions = backendtest.Options{
	LoseBlob: func(t *testing.T, b backend.Backend, digest string) {
		t.Helper()
		if err := os.Remove(b.(*Backend).blobPath(digest)); err != nil {
			t.Fatal(err)
		}
	},
}

func TestConformance(t *testing.T) {
	backendtest.RunWith(t, func(t *testing.T) backend.Backend { return openAt(t, t.TempDir()) }, suiteOptions)
}

// TestConformanceSharedStore runs the suite with every subtest on one store,
// as a user's single data directory holds many apps.
func TestConformanceSharedStore(t *testing.T) {
	dir := t.TempDir()
	backendtest.RunWith(t, func(t *testing.T) backend.Backend { return openAt(t, dir) }, suiteOptions)
}

func sha1hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func put(t testing.TB, b *Backend, app string, data []byte) string {
	t.Helper()
	d := sha1hex(data)
	if err := b.PutBlob(t.Context(), app, d, int64(len(data)), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncBlobs(t.Context()); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBlobFileLayout(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	data := []byte("hello, layout\n")
	d := put(t, b, "app", data)
	got, err := os.ReadFile(filepath.Join(dir, "blobs", d[:2], d[2:]))
	if err != nil {
		t.Fatalf("blob file not at blobs/%s/%s: %v", d[:2], d[2:], err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("blob file holds %q, want %q", got, data)
	}
	f, err := b.OpenBlob(t.Context(), "app", d)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, _ := io.ReadAll(f); !bytes.Equal(got, data) {
		t.Fatalf("OpenBlob reads %q, want %q", got, data)
	}
	if _, err := b.OpenBlob(t.Context(), "app", sha1hex([]byte("absent"))); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("OpenBlob of an absent blob: %v, want ErrNotFound", err)
	}
	if _, err := b.OpenBlob(t.Context(), "other-app", d); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("OpenBlob of an absent blob: %v, want ErrNotFound", err)
	}
}

func TestMismatchLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	d := sha1hex([]byte("right"))
	err := b.PutBlob(t.Context(), "app", d, 5, strings.NewReader("wrong"))
	if !errors.Is(err, backend.ErrDigestMismatch) {
		t.Fatalf("PutBlob of wrong content: %v, want ErrDigestMismatch", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", d[:2]))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a refused blob left %s behind", e.Name())
	}
}

// A blob file removed behind the store's back is missing again, so the next
// deploy re-sends it rather than creating a version with a hole.
func TestLostBlobFileIsReportedAndRepaired(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	data := []byte("soon gone\n")
	d := put(t, b, "app", data)
	if err := os.Remove(filepath.Join(dir, "blobs", d[:2], d[2:])); err != nil {
		t.Fatal(err)
	}
	if _, err := b.OpenBlob(t.Context(), "app", d); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("OpenBlob of a blob whose file was deleted: %v, want ErrNotFound", err)
	}
	put(t, b, "app", data) // sending it again repairs the store
	f, err := b.OpenBlob(t.Context(), "app", d)
	if err != nil {
		t.Fatalf("OpenBlob after re-sending: %v", err)
	}
	defer f.Close()
	if got, _ := io.ReadAll(f); !bytes.Equal(got, data) {
		t.Fatalf("OpenBlob after re-sending reads %q, want %q", got, data)
	}
}

// Blobs belong to an app: one app's upload does not make another's manifest
// valid, though the file is stored once.
func TestBlobsArePerApp(t *testing.T) {
	b := openAt(t, t.TempDir())
	d := put(t, b, "one", []byte("shared content\n"))
	got, err := b.MissingBlobs(t.Context(), "two", []string{d})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("app two holds app one's blob: MissingBlobs = %v", got)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	b1, err := Open(t.Context(), "", Config{Root: dir}, backend.Env{User: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("durable\n")
	d := put(t, b1, "app", data)
	spec := backend.VersionSpec{App: "app", Service: "default", Version: "v1", Runtime: "go122", Model: &appmodel.App{Runtime: "go122"},
		Files: []backend.FileRef{{Path: "main.go", SHA1: d, Size: int64(len(data)), MimeType: "text/x-go"}}}
	if _, err := b1.CreateVersion(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := openAt(t, dir)
	v, err := b2.Version(t.Context(), "app", "default", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Deployer != "ann" || v.Runtime != "go122" || v.Files != 1 {
		t.Fatalf("reopened version = %+v, want deployer ann, runtime go122, 1 file", v)
	}
	got, err := b2.Manifest(t.Context(), "app", "default", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 1 || got.Files[0] != spec.Files[0] || got.Runtime != "go122" || string(got.Config) != "runtime: go122\n" {
		t.Fatalf("reopened manifest = %+v, want %+v", got, spec)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	if _, err := b.db.ExecContext(t.Context(), "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), "", Config{Root: dir}, backend.Env{})
	if err == nil || !strings.Contains(err.Error(), "upgrade appcfg") {
		t.Fatalf("opening a store with a newer schema: %v, want an error asking to upgrade", err)
	}
}

func TestManifestValidation(t *testing.T) {
	b := openAt(t, t.TempDir())
	d := put(t, b, "app", []byte("x"))
	tests := []struct {
		name  string
		files []backend.FileRef
		want  string
	}{
		{"duplicate path", []backend.FileRef{{Path: "a", SHA1: d, Size: 1}, {Path: "a", SHA1: d, Size: 1}}, "twice"},
		{"empty path", []backend.FileRef{{Path: "", SHA1: d, Size: 1}}, "empty path"},
		{"bad digest", []backend.FileRef{{Path: "a", SHA1: "xyz", Size: 1}}, "not a SHA-1"},
		{"wrong size", []backend.FileRef{{Path: "a", SHA1: d, Size: 2}}, "differs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.CreateVersion(t.Context(), backend.VersionSpec{App: "app", Service: "default", Version: "v1", Files: tt.files})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CreateVersion = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := b.CreateVersion(t.Context(), backend.VersionSpec{App: "", Service: "default", Version: "v1"}); err == nil {
		t.Error("CreateVersion with an empty app id succeeded")
	}
}

// Asking about a few digests of an app that holds many takes the index-probe
// path of queryHeld rather than the whole-list one.
func TestMissingBlobsFewOfMany(t *testing.T) {
	b := openAt(t, t.TempDir())
	var held []string
	for i := range 20 {
		held = append(held, put(t, b, "app", []byte(strings.Repeat("x", i+1))))
	}
	absent := sha1hex([]byte("never stored"))
	got, err := b.MissingBlobs(t.Context(), "app", []string{absent, held[7], held[3]})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != absent {
		t.Fatalf("MissingBlobs = %v, want only %s", got, absent)
	}
}

// TestSameVersionComparesTheModel: an unchanged redeploy is recognised
// from the model the deploy carries (the store compares what it would
// keep), and a changed configuration is a new deploy.
func TestSameVersionComparesTheModel(t *testing.T) {
	b := openAt(t, t.TempDir())
	data := []byte("print(1)\n")
	d := put(t, b, "app", data)
	spec := func(env string) backend.VersionSpec {
		return backend.VersionSpec{App: "app", Service: "default", Version: "v1", Runtime: "python312",
			Model: &appmodel.App{Runtime: "python312", Env: env},
			Files: []backend.FileRef{{Path: "main.py", SHA1: d, Size: int64(len(data))}}}
	}
	if _, err := b.CreateVersion(t.Context(), spec("standard")); err != nil {
		t.Fatal(err)
	}
	if same, err := b.SameVersion(t.Context(), spec("standard")); err != nil || !same {
		t.Errorf("SameVersion of the spec just created = %v, %v; want true", same, err)
	}
	if same, err := b.SameVersion(t.Context(), spec("")); err != nil || same {
		t.Errorf("SameVersion with another configuration = %v, %v; want false", same, err)
	}
}

// TestSetTrafficUnchangedWritesNothing: promoting the version that already
// has all of the service's traffic (every unchanged redeploy does) changes
// nothing, so it writes nothing: no history entry, no commit to wait for.
func TestSetTrafficUnchangedWritesNothing(t *testing.T) {
	b := openAt(t, t.TempDir())
	data := []byte("print(1)\n")
	d := put(t, b, "app", data)
	for _, v := range []string{"v1", "v2"} {
		spec := backend.VersionSpec{App: "app", Service: "default", Version: v, Runtime: "python312",
			Model: &appmodel.App{Runtime: "python312"}, Files: []backend.FileRef{{Path: "main.py", SHA1: d, Size: int64(len(data))}}}
		if _, err := b.CreateVersion(t.Context(), spec); err != nil {
			t.Fatal(err)
		}
	}
	set := func(split map[string]float64) {
		t.Helper()
		if err := b.SetTraffic(t.Context(), "app", "default", split, false); err != nil {
			t.Fatal(err)
		}
	}
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(filepath.Join(b.root, dbName+"-wal"))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	set(map[string]float64{"v1": 1})
	before := walSize()
	set(map[string]float64{"v1": 1})
	if after := walSize(); after != before {
		t.Errorf("the same split again grew the write-ahead log from %d to %d bytes: it committed a change", before, after)
	}
	set(map[string]float64{"v1": 0.5, "v2": 0.5})
	set(map[string]float64{"v1": 0.5, "v2": 0.5})
	set(map[string]float64{"v2": 1})
	h, err := b.TrafficHistory(t.Context(), "app", "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Split["v2"] != 1 || h[1].Split["v1"] != 0.5 || h[2].Split["v1"] != 1 {
		t.Fatalf("history = %+v, want three changes: v1, then half each, then v2", h)
	}
	if prev, err := backend.PreviousDefault(t.Context(), b, "app", "default"); err != nil || prev != "v1" {
		t.Errorf("PreviousDefault = %q, %v; want v1", prev, err)
	}
}

// TestManifestSumIsStable: stores keep manifest sums (an unchanged redeploy
// compares against them), so the bytes hashed never change, whatever the
// order the files come in.
func TestManifestSumIsStable(t *testing.T) {
	files := []backend.FileRef{{Path: "z/main.py", SHA1: "8c4d1a1c4f4f0c76e0b6c6c2a0d9c6f0f0a1b2c3", Size: 12, MimeType: "text/x-python"},
		{Path: "a b/é.txt", SHA1: "0000000000000000000000000000000000000000", Size: 0},
		{Path: "static/x.png", SHA1: "ffffffffffffffffffffffffffffffffffffffff", Size: 1 << 40, MimeType: "image/png"}}
	const want = "575a6aaf59db0614f25ffd73a375c8ba019727d6" // the sum as first released
	if got := manifestSum(files); got != want {
		t.Errorf("manifestSum = %s, want %s", got, want)
	}
	sorted := []backend.FileRef{files[1], files[2], files[0]}
	if got := manifestSum(sorted); got != want {
		t.Errorf("manifestSum of the files in path order = %s, want %s", got, want)
	}
	if files[0].Path != "z/main.py" {
		t.Error("manifestSum reordered its caller's slice")
	}
}
