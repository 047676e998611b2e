//go:build unix

package hashcache

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTruncatedWhileMapped: a cache file truncated behind the process
// (reads of its mapping past the new end fault) does not kill it: what was
// looked up before stays readable (copied out), and the cache then knows
// nothing of the file, stores what this run learns, and says that Save
// could not rewrite it.
func TestTruncatedWhileMapped(t *testing.T) {
	c, path, rels, stats := openMapped(t, 3000)
	got, ok := c.Lookup(rels[1], stats[1])
	if !ok || got != sum(1) {
		t.Fatalf("Lookup = %q, %v; want %q", got, ok, sum(1))
	}
	passed := c.Passed(rels[2], stats[2], "secrets-1")
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if strings.Clone(got) != sum(1) || !passed {
		t.Errorf("after truncation, the digest looked up before reads %q (want %q), passed %v", got, sum(1), passed)
	}
	if got, ok := c.Lookup(rels[2999], stats[2999]); ok {
		t.Errorf("Lookup in a truncated cache = %q; want no entry", got)
	}
	if c.Passed(rels[2998], stats[2998], "secrets-1") {
		t.Error("Passed in a truncated cache = true; want false")
	}
	c.Store(rels[2999], stats[2999], sum(2999))
	if got, ok := c.Lookup(rels[2999], stats[2999]); !ok || got != sum(2999) {
		t.Errorf("Lookup of an entry stored after the truncation = %q, %v", got, ok)
	}
	if err := c.Save(); err != nil {
		t.Errorf("Save after the truncation: %v", err)
	}
	if got, ok := Open(path).Lookup(rels[2999], stats[2999]); !ok || got != sum(2999) {
		t.Errorf("the saved cache: Lookup = %q, %v; want what was stored", got, ok)
	}
}

// TestTruncatedBeforeSave: truncated after its entries were looked up, the
// file cannot be rewritten from its mapping; Save says so and leaves no
// half-written cache.
func TestTruncatedBeforeSave(t *testing.T) {
	c, path, rels, stats := openMapped(t, 3000)
	c.Lookup(rels[1], stats[1])
	c.Store(rels[2], stats[2], sum(3)) // a change: Save must write
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

func sum(i int) string { return fmt.Sprintf("%040x", i) }

// openMapped opens a cache of n entries (writeEntries), mapped, and returns
// it with its file, paths and stat data.
func openMapped(t *testing.T, n int) (*Cache, string, []string, []Stat) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hashes")
	rels, stats := writeEntries(t, path, n)
	c := Open(path)
	if !c.mapped {
		t.Skip("the file system cannot map the cache file")
	}
	c.now = func() time.Time { return time.Unix(1e6, 0) }
	return c, path, rels, stats
}
