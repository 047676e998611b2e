package upload

import (
	"fmt"
	"io/fs"
	"runtime"
	"testing"
	"time"

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
func TestHashedKeepsNoCopyOfFiles(t *testing.T) {
	const n = 4000
	cache := hashcache.Open(t.TempDir() + "/absent")
	files := make([]File, n)
	for i := range files {
		info := listedInfo{name: fmt.Sprintf("f%05d", i), size: int64(i)}
		files[i] = File{Path: "d/" + info.name, Abs: "/app/d/" + info.name, Size: info.size, MimeType: "text/plain", Info: info}
		cache.Store(files[i].Path, hashcache.StatOf(info), fmt.Sprintf("%040x", i))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hashedFiles, err := hashFiles(t.Context(), files, 2, cache, nil, progress.Or(nil))
	if err != nil {
		t.Fatal(err)
	}
	blobs := distinct(hashedFiles)
	runtime.ReadMemStats(&after)
	if len(blobs) != n || blobs[n-1].SHA1 != fmt.Sprintf("%040x", n-1) || blobs[n-1].Path != files[n-1].Path {
		t.Fatalf("%d distinct contents, the last %+v; want %d, the last file's", len(blobs), blobs[n-1], n)
	}
	if perFile := (after.TotalAlloc - before.TotalAlloc) / n; perFile > 160 {
		t.Errorf("hashing and finding the distinct contents of %d cached files allocated %d bytes a file, want at most 160", n, perFile)
	}
}
