package hashcache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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
	if _, ok := c.fresh["new.txt"]; ok {
		t.Error("a file modified just now was cached")
	}
}

func TestCorruptCacheIsIgnored(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h")
	if err := os.WriteFile(p, []byte("garbage\nmore"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := Open(p); len(c.file.at) != 0 {
		t.Errorf("loaded %d entries from a corrupt file", len(c.file.at))
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

// writeEntries writes a cache file of n entries (hashed, and passed by the
// secret guard) and returns their paths and stat data.
func writeEntries(t testing.TB, path string, n int) ([]string, []Stat) {
	c := Open(path)
	c.now = func() time.Time { return time.Unix(1e6, 0) }
	rels, sts := make([]string, n), make([]Stat, n)
	for i := range rels {
		rels[i] = fmt.Sprintf("static/d%03d/f%05d.bin", i%97, i)
		sts[i] = Stat{Size: int64(i), MTime: int64(i), CTime: int64(i), Inode: uint64(i)}
		c.Store(rels[i], sts[i], fmt.Sprintf("%040x", i))
		c.Pass(rels[i], sts[i], "secrets-1")
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	return rels, sts
}

// Loading the cache allocates little beyond the file itself: its entries
// stay lines of the file, found where they lie. A map of the entries (and
// its growth) cost ls_files a tenth of its time, mostly in page faults.
// Where the file is mapped (unix), not even the file: a copy of it was
// 160 fresh pages for 5,000 entries.
func TestOpenAllocatesLittleBeyondTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashes")
	writeEntries(t, path, 5000)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := Open(path)
	runtime.ReadMemStats(&after)
	if len(c.file.at) != 5000 {
		t.Fatalf("loaded %d entries, want 5000", len(c.file.at))
	}
	// The file (unless mapped), the index of its lines (12 bytes a line)
	// and a flag a line.
	limit := uint64(5000*16 + 64<<10)
	if !c.mapped {
		limit += uint64(fi.Size())
	} else if runtime.GOOS == "linux" && limit > uint64(fi.Size()) {
		t.Fatalf("the test's file (%d bytes) is too small to tell a copy", fi.Size())
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("Open allocated %d bytes for a %d-byte file of 5,000 entries, want at most %d", got, fi.Size(), limit)
	}
}

// The file's lines are in path order (so they can be looked up where they
// lie); a file of an older appcfg, in no order and perhaps with a path
// twice, is read as it was meant (the last line of a path wins) and
// written in order.
func TestFileOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashes")
	sum := func(i int) string { return fmt.Sprintf("%040x", i) }
	old := formatLine + "\n" +
		sum(1) + " 1 1 1 1 - \"b.txt\"\n" +
		sum(2) + " 2 2 2 2 secrets-1 \"a b.txt\"\n" +
		"not an entry\n" +
		sum(3) + " 3 3 3 3 - \"a.txt\"\n" +
		sum(4) + " 4 4 4 4 - \"b.txt\"\n" +
		sum(5) + " 5 5 5 5 - \"a!.txt\"\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Open(path)
	for _, tc := range []struct {
		rel string
		i   int
	}{{"a.txt", 3}, {"b.txt", 4}, {"a b.txt", 2}, {"a!.txt", 5}} {
		st := Stat{Size: int64(tc.i), MTime: int64(tc.i), CTime: int64(tc.i), Inode: uint64(tc.i)}
		if got, ok := c.Lookup(tc.rel, st); !ok || got != sum(tc.i) {
			t.Errorf("Lookup(%q) = %q, %v; want %s", tc.rel, got, ok, sum(tc.i))
		}
	}
	if _, ok := c.Lookup("b.txt", Stat{Size: 1, MTime: 1, CTime: 1, Inode: 1}); ok {
		t.Error("the earlier line of a path twice in the file was taken")
	}
	if !c.Passed("a b.txt", Stat{Size: 2, MTime: 2, CTime: 2, Inode: 2}, "secrets-1") {
		t.Error("a verdict was lost")
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := formatLine + "\n" +
		sum(2) + " 2 2 2 2 secrets-1 \"a b.txt\"\n" +
		sum(5) + " 5 5 5 5 - \"a!.txt\"\n" +
		sum(3) + " 3 3 3 3 - \"a.txt\"\n" +
		sum(4) + " 4 4 4 4 - \"b.txt\"\n"
	if string(data) != want {
		t.Errorf("saved file:\n%s\nwant:\n%s", data, want)
	}
}

// Entries stored in a run land in order among the file's unchanged lines,
// replace the lines of their paths, and lookups in any order find them all.
func TestStoreAmongFileLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashes")
	rels, sts := writeEntries(t, path, 300)
	c := Open(path)
	c.now = func() time.Time { return time.Unix(1e6, 0) }
	// Backwards, so the lookups never find their line where the last
	// one ended.
	for i := len(rels) - 1; i >= 0; i-- {
		if i%3 == 0 {
			sts[i].Size++ // changed: hashed again
			if _, ok := c.Lookup(rels[i], sts[i]); ok {
				t.Fatalf("%s: a changed file was found", rels[i])
			}
			c.Store(rels[i], sts[i], fmt.Sprintf("%040x", i+1000))
			continue
		}
		if !c.Passed(rels[i], sts[i], "secrets-1") {
			t.Fatalf("%s: verdict lost", rels[i])
		}
	}
	c.Store("new/file.txt", Stat{Size: 1, MTime: 1}, fmt.Sprintf("%040x", 7))
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	c = Open(path)
	if c.dirty {
		t.Error("Save wrote a file out of order")
	}
	for i, rel := range rels {
		want := fmt.Sprintf("%040x", i)
		if i%3 == 0 {
			want = fmt.Sprintf("%040x", i+1000)
		}
		if got, ok := c.Lookup(rel, sts[i]); !ok || got != want {
			t.Errorf("Lookup(%s) = %q, %v; want %s", rel, got, ok, want)
		}
		if c.Passed(rel, sts[i], "secrets-1") != (i%3 != 0) {
			t.Errorf("%s: the verdict is not as it was left", rel)
		}
	}
	if _, ok := c.Lookup("new/file.txt", Stat{Size: 1, MTime: 1}); !ok {
		t.Error("the new entry was lost")
	}
}

func TestAppendQuoteIsStrconvs(t *testing.T) {
	for _, s := range []string{"", "a/b.txt", "sp ace", `q"uote`, `back\slash`, "tab\t", "\x7f", "~", "é", "bad\xff", "new\nline"} {
		if got, want := string(appendQuote([]byte("x"), s)), "x"+strconv.Quote(s); got != want {
			t.Errorf("appendQuote(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestParseIsStrconvs: the stat fields of an entry read by hand give what
// strconv gives, number and error alike, for what the file holds
// (strconv.AppendInt's output, every length) and for what a damaged file
// could hold instead.
func TestParseIsStrconvs(t *testing.T) {
	in := []string{"", "-", "+", "0", "-0", "+5", "007", "-007", "1_000", "0x10", "12a", " 1", "1 ", "--1",
		"999999999999999999", "-999999999999999999", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999"}
	for n, d := int64(1), 0; d < 19; n, d = n*10, d+1 {
		in = append(in, strconv.FormatInt(n, 10), strconv.FormatInt(n-1, 10), strconv.FormatInt(-n, 10),
			strconv.FormatInt(n*9+n-1, 10), strconv.FormatInt(time.Now().UnixNano()%(n*10), 10))
	}
	for _, s := range in {
		gotI, gotIErr := parseInt(s)
		wantI, wantIErr := strconv.ParseInt(s, 10, 64)
		if gotI != wantI || fmt.Sprint(gotIErr) != fmt.Sprint(wantIErr) {
			t.Errorf("parseInt(%q) = %d, %v; strconv.ParseInt: %d, %v", s, gotI, gotIErr, wantI, wantIErr)
		}
		gotU, gotUErr := parseUint(s)
		wantU, wantUErr := strconv.ParseUint(s, 10, 64)
		if gotU != wantU || fmt.Sprint(gotUErr) != fmt.Sprint(wantUErr) {
			t.Errorf("parseUint(%q) = %d, %v; strconv.ParseUint: %d, %v", s, gotU, gotUErr, wantU, wantUErr)
		}
	}
}

// BenchmarkParseStat parses the four numbers of an entry as a lookup does.
func BenchmarkParseStat(b *testing.B) {
	fields := []string{"48213", "1764873600123456789", "1764873600123456789", "13107213"}
	for b.Loop() {
		parseInt(fields[0])
		parseInt(fields[1])
		parseInt(fields[2])
		parseUint(fields[3])
	}
}
