//go:build unix

package hashcache

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// writeCache saves a cache of n entries ("f00000" …) at path and returns
// their stat data and digests.
func writeCache(t *testing.T, path string, n int) ([]Stat, []string) {
	t.Helper()
	c := Open(path)
	c.now = func() time.Time { return time.Unix(1e6, 0) }
	stats, sums := make([]Stat, n), make([]string, n)
	for i := range n {
		stats[i] = Stat{Size: int64(i), MTime: 1, CTime: 2, Inode: uint64(i + 1)}
		sums[i] = fmt.Sprintf("%040x", i+1)
		c.Store(fmt.Sprintf("f%05d", i), stats[i], sums[i])
		c.Pass(fmt.Sprintf("f%05d", i), stats[i], "secrets-v1")
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	return stats, sums
}

// TestOpenCopiesNothing: loading the cache maps its file rather than
// reading it into fresh memory (640 KB for a 5,000-file app: 160 page
// faults, 11 µs each on a VM with shadow paging).
func TestOpenCopiesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashes")
	writeCache(t, path, 5000)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c := Open(path)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(fi.Size())/4 {
		t.Errorf("Open of a %d-byte cache allocated %d bytes; want the file mapped, not copied", fi.Size(), got)
	}
	if _, ok := c.Lookup("f04999", Stat{Size: 4999, MTime: 1, CTime: 2, Inode: 5000}); !ok {
		t.Error("the mapped cache does not know f04999")
	}
}

// TestTruncatedWhileMapped: a cache file truncated behind the process
// (reads of its mapping past the new end fault) does not kill it: what was
// looked up before stays readable (copied out), and the cache then knows
// nothing of the file, stores what this run learns, and says that Save
// could not rewrite it.
func TestTruncatedWhileMapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashes")
	stats, sums := writeCache(t, path, 3000)
	c := Open(path)
	if !c.mapped {
		t.Skip("the file system cannot map the cache file")
	}
	c.now = func() time.Time { return time.Unix(1e6, 0) }
	got, ok := c.Lookup("f00001", stats[1])
	if !ok || got != sums[1] {
		t.Fatalf("Lookup = %q, %v; want %q", got, ok, sums[1])
	}
	passed := c.Passed("f00002", stats[2], "secrets-v1")
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if strings.Clone(got) != sums[1] || !passed {
		t.Errorf("after truncation, the digest looked up before reads %q (want %q), passed %v", got, sums[1], passed)
	}
	if got, ok := c.Lookup("f02999", stats[2999]); ok {
		t.Errorf("Lookup in a truncated cache = %q; want no entry", got)
	}
	if c.Passed("f02998", stats[2998], "secrets-v1") {
		t.Error("Passed in a truncated cache = true; want false")
	}
	c.Store("f02999", stats[2999], sums[2999])
	if got, ok := c.Lookup("f02999", stats[2999]); !ok || got != sums[2999] {
		t.Errorf("Lookup of an entry stored after the truncation = %q, %v", got, ok)
	}
	if err := c.Save(); err != nil {
		t.Errorf("Save after the truncation: %v", err)
	}
	if got, ok := Open(path).Lookup("f02999", stats[2999]); !ok || got != sums[2999] {
		t.Errorf("the saved cache: Lookup = %q, %v; want what was stored", got, ok)
	}
}

// TestTruncatedBeforeSave: truncated after its entries were looked up, the
// file cannot be rewritten from its mapping; Save says so and leaves no
// half-written cache.
func TestTruncatedBeforeSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashes")
	stats, sums := writeCache(t, path, 3000)
	c := Open(path)
	if !c.mapped {
		t.Skip("the file system cannot map the cache file")
	}
	c.now = func() time.Time { return time.Unix(1e6, 0) }
	c.Lookup("f00001", stats[1])
	c.Store("f00002", stats[2], sums[3]) // a change: Save must write
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Save of a truncated cache: %v; want an error saying so", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("Save left %d files; want the cache file alone", len(entries))
	}
}
