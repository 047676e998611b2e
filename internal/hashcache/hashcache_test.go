package hashcache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a b\tc.txt")
	if err := os.WriteFile(file, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	sum, n, err := HashFile(context.Background(), file, nil)
	if err != nil || n != 6 || sum != "f572d396fae9206628714fb2ce00f72e94f2258f" {
		t.Fatalf("HashFile = %s %d %v", sum, n, err)
	}
	fi, _ := os.Stat(file)
	cachePath := filepath.Join(dir, "cache", "hashes")
	c := Open(cachePath)
	if _, ok := c.Lookup("a b\tc.txt", StatOf(fi)); ok {
		t.Fatal("hit in an empty cache")
	}
	c.Store("a b\tc.txt", StatOf(fi), sum)
	c.Store("gone.txt", Stat{Size: 1, MTime: 1}, sum)
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}

	c2 := Open(cachePath)
	if got, ok := c2.Lookup("a b\tc.txt", StatOf(fi)); !ok || got != sum {
		t.Fatalf("Lookup after reload = %q %v", got, ok)
	}
	// Only entries used in a run survive its Save.
	if err := c2.Save(); err != nil {
		t.Fatal(err)
	}
	if _, ok := Open(cachePath).Lookup("gone.txt", Stat{Size: 1, MTime: 1}); ok {
		t.Error("an entry unused in the last run survived")
	}

	// A change of content that keeps size and mtime still changes ctime.
	if err := os.WriteFile(file, []byte("HELLO\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(file)
	if _, ok := Open(cachePath).Lookup("a b\tc.txt", StatOf(fi2)); ok && StatOf(fi2).CTime != 0 {
		t.Error("a rewritten file was served from the cache")
	}
}

func TestRecentFilesAreNotCached(t *testing.T) {
	c := Open(filepath.Join(t.TempDir(), "h"))
	st := Stat{Size: 3, MTime: time.Now().UnixNano()}
	c.Store("new.txt", st, "0000000000000000000000000000000000000000")
	if _, ok := c.entries["new.txt"]; ok {
		t.Error("a file modified just now was cached")
	}
}

func TestCorruptCacheIsIgnored(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h")
	if err := os.WriteFile(p, []byte("garbage\nmore"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := Open(p); len(c.entries) != 0 {
		t.Errorf("loaded %d entries from a corrupt file", len(c.entries))
	}
}

// A check's verdict is kept with the hash, by the same stat rules: it holds
// while the stat data is unchanged, survives a reload, and is dropped when
// the file changes.
func TestCheckVerdicts(t *testing.T) {
	dir := t.TempDir()
	cachePath := filepath.Join(dir, "hashes")
	old := time.Now().Add(-time.Hour).UnixNano()
	st := Stat{Size: 5, MTime: old, CTime: old, Inode: 7}
	c := Open(cachePath)
	if c.Passed("a.txt", st, "secrets") {
		t.Fatal("a verdict in an empty cache")
	}
	c.Store("a.txt", st, "f572d396fae9206628714fb2ce00f72e94f2258f")
	c.Pass("a.txt", st, "secrets")
	c.Pass("b.txt", st, "secrets") // marked, never hashed
	c.Pass("new.txt", Stat{Size: 1, MTime: time.Now().UnixNano()}, "secrets")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}

	c2 := Open(cachePath)
	if !c2.Passed("a.txt", st, "secrets") || c2.Passed("a.txt", st, "other") {
		t.Error("the verdict of a.txt did not survive the reload as it was")
	}
	if sum, ok := c2.Lookup("a.txt", st); !ok || sum != "f572d396fae9206628714fb2ce00f72e94f2258f" {
		t.Errorf("the hash of a marked file was lost: %q %v", sum, ok)
	}
	if !c2.Passed("b.txt", st, "secrets") {
		t.Error("a verdict without a hash was lost")
	}
	if _, ok := c2.Lookup("b.txt", st); ok {
		t.Error("a file never hashed has a hash")
	}
	if c2.Passed("new.txt", Stat{Size: 1, MTime: time.Now().UnixNano()}, "secrets") {
		t.Error("a verdict on a file modified just now was kept (racily clean)")
	}
	changed := st
	changed.CTime++
	if c2.Passed("a.txt", changed, "secrets") {
		t.Error("a verdict outlived a change of the file")
	}
	// Hashing after a change keeps no verdict of the old content.
	c2.Store("a.txt", changed, "0000000000000000000000000000000000000000")
	if c2.Passed("a.txt", changed, "secrets") {
		t.Error("a new hash inherited the verdict of the old content")
	}
}

// BenchmarkOpenLookupSave is an unchanged redeploy's use of the cache:
// load 5,000 entries, look every one up (the secret guard's verdict, then
// the hash), save (which writes nothing).
func BenchmarkOpenLookupSave(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "hashes")
	c := Open(path)
	c.now = func() time.Time { return time.Unix(1e6, 0) }
	const n = 5000
	rels := make([]string, n)
	for i := range rels {
		rels[i] = fmt.Sprintf("static/d%03d/f%05d.bin", i%97, i)
		st := Stat{Size: int64(i), MTime: int64(i), CTime: int64(i), Inode: uint64(i)}
		c.Store(rels[i], st, fmt.Sprintf("%040x", i))
		c.Pass(rels[i], st, "secrets-1")
	}
	if err := c.Save(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		c := Open(path)
		for i, rel := range rels {
			st := Stat{Size: int64(i), MTime: int64(i), CTime: int64(i), Inode: uint64(i)}
			if !c.Passed(rel, st, "secrets-1") {
				b.Fatal("verdict lost")
			}
			if _, ok := c.Lookup(rel, st); !ok {
				b.Fatal("hash lost")
			}
		}
		if err := c.Save(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOddPathsRoundTrip: paths that need quoting (and those that do not)
// come back as stored.
func TestOddPathsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashes")
	c := Open(path)
	c.now = func() time.Time { return time.Unix(1e6, 0) }
	rels := []string{"plain/a.txt", `q"uote.txt`, `back\slash.txt`, "tab\there", "new\nline", "é/ü.txt", "sp ace/x y", "\x7f.bin", "bad\xffutf8"}
	for i, rel := range rels {
		c.Store(rel, Stat{Size: int64(i), MTime: 1}, fmt.Sprintf("%040x", i))
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	c = Open(path)
	for i, rel := range rels {
		if got, ok := c.Lookup(rel, Stat{Size: int64(i), MTime: 1}); !ok || got != fmt.Sprintf("%040x", i) {
			t.Errorf("Lookup(%q) = %q, %v after a reload", rel, got, ok)
		}
	}
}
