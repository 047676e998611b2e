package upload

import (
	"context"
	"fmt"
	"io/fs"
	"runtime"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/progress"
)

// listedInfo is the metadata of a listed file that is not on disk.
type listedInfo struct {
	name string
	size int64
}

func (i listedInfo) Name() string       { return i.name }
func (i listedInfo) Size() int64        { return i.size }
func (i listedInfo) Mode() fs.FileMode  { return 0o644 }
func (i listedInfo) ModTime() time.Time { return time.Unix(1700000000, 0) }
func (i listedInfo) IsDir() bool        { return false }
func (i listedInfo) Sys() any           { return nil }

// TestHashedKeepsNoCopyOfFiles: on an unchanged redeploy (every digest
// from the stat cache), the digests and the distinct contents cost a
// small record per file, not a copy of each File: the copies (120 bytes
// a file, twice) were a tenth of an unchanged redeploy's page faults.
// (The version's list of files, which hashFiles now builds, is measured
// by TestUnchangedBuildsOneList.)
func TestHashedKeepsNoCopyOfFiles(t *testing.T) {
	const n = 4000
	cache := hashcache.Open(t.TempDir() + "/absent")
	files := make([]File, n)
	for i := range files {
		info := listedInfo{name: fmt.Sprintf("f%05d", i), size: int64(i)}
		files[i] = File{Path: "d/" + info.name, Info: info}
		cache.Store(files[i].Path, hashcache.StatOf(info), fmt.Sprintf("%040x", i))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hashedFiles, err := hashFiles(t.Context(), "/app", files, 2, cache, nil, progress.Or(nil))
	if err != nil {
		t.Fatal(err)
	}
	blobs := distinct(hashedFiles)
	runtime.ReadMemStats(&after)
	if len(blobs) != n || blobs[n-1].SHA1 != fmt.Sprintf("%040x", n-1) || blobs[n-1].Path != files[n-1].Path {
		t.Fatalf("%d distinct contents, the last %+v; want %d, the last file's", len(blobs), blobs[n-1], n)
	}
	const most = 160 + 56 // 56: the version's FileRef, made here now
	if perFile := (after.TotalAlloc - before.TotalAlloc) / n; perFile > most {
		t.Errorf("hashing and finding the distinct contents of %d cached files allocated %d bytes a file, want at most %d", n, perFile, most)
	}
}

// liveHost is a host on which every version is live as it is: Deploy's
// unchanged path, alone.
type liveHost struct {
	backend.Deployer // never called
	files            int
}

func (h *liveHost) Location() string               { return "live:" }
func (h *liveHost) Properties() backend.Properties { return backend.Properties{Connections: 1} }
func (h *liveHost) Close() error                   { return nil }
func (h *liveHost) LiveAsIs(_ context.Context, spec backend.VersionSpec, _ bool) (backend.Version, bool, error) {
	h.files = len(spec.Files)
	return backend.Version{ID: spec.Version, Files: len(spec.Files)}, true, nil
}

// TestUnchangedBuildsOneList: an unchanged redeploy (every digest from the
// stat cache, the version live as it is) builds one list of its files
// beside the caller's, the version's, and counts its distinct contents
// without a second: a FileRef (56 bytes), the digest copied out of the
// mapped stat cache (40) and the count's set (about 35), 153 bytes a file
// in all, where the digests, the distinct contents (and their map) and
// the spec's copy were each a list of their own: 218 bytes a file, 40 to
// 70 fresh pages each list for 5,000 files.
func TestUnchangedBuildsOneList(t *testing.T) {
	const n = 4000
	path := t.TempDir() + "/hashes"
	cache := hashcache.Open(path)
	files := make([]File, n)
	for i := range files {
		info := listedInfo{name: fmt.Sprintf("f%05d", i), size: int64(i)}
		files[i] = File{Path: "d/" + info.name, Info: info}
		cache.Store(files[i].Path, hashcache.StatOf(info), fmt.Sprintf("%040x", i%(n/2)))
	}
	if err := cache.Save(); err != nil {
		t.Fatal(err)
	}
	cache = hashcache.Open(path) // as a redeploy finds it: nothing to write
	h := &liveHost{}
	opts := Options{App: "app", Service: "default", Version: "v1", Runtime: "python312",
		Files: files, Root: "/app", HashWorkers: 2, Cache: cache}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Deploy(t.Context(), h, opts, progress.Or(nil))
	runtime.ReadMemStats(&after)
	if err != nil || !res.Unchanged || res.Files != n || res.Blobs != n/2 || h.files != n {
		t.Fatalf("Deploy = %+v, %v (the host saw %d files); want unchanged, %d files, %d contents", res, err, h.files, n, n/2)
	}
	// 108 bytes a file: counting the distinct contents in a map of their
	// digests made it 153.
	if perFile := (after.TotalAlloc - before.TotalAlloc) / n; perFile > 125 {
		t.Errorf("an unchanged redeploy of %d files allocated %d bytes a file, want at most 125", n, perFile)
	}
}
