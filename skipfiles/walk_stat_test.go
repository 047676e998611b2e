package skipfiles

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/testtree"
)

// statTree is an app whose rules skip a file beside each kept one, a
// directory, and dot-files: what the walk must decide without a stat.
func statTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"app.yaml", "main.py", "main.pyc", ".env.swp", "lib/a.py", "lib/a.pyc", "lib/b.py",
		"lib/sub/c.py", "lib/sub/#c#", ".cache/x/1", ".cache/x/2", "static/s.css", "static/s.css~", "static/.hidden/k"} {
		testtree.WriteFile(t, dir, p, "content of "+p)
	}
	mustLink(t, "lib", filepath.Join(dir, "alias"))
	return dir
}

// TestWalkStatsOnlyKeptFiles: the rules decide by name and type, so the
// walk stats the files it lists and nothing else (issue 19: it used to
// lstat every entry of every directory it read, skipped ones included).
func TestWalkStatsOnlyKeptFiles(t *testing.T) {
	dir := statTree(t)
	res, err := Walk(context.Background(), dir, Options{Runtime: "python27"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alias/a.py", "alias/b.py", "alias/sub/c.py", "app.yaml", "lib/a.py", "lib/b.py", "lib/sub/c.py", "main.py", "static/s.css"}
	if got := rels(res); !reflect.DeepEqual(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	// The link is stat'ed by path (it is followed), not by the listing.
	if kept := len(res.Files); res.lstats != kept {
		t.Errorf("the listing made %d lstat calls for %d listed files; want one per listed file, none for skipped entries or directories", res.lstats, kept)
	}
}

// TestWalkUnknownDirentType: where the file system does not give an
// entry's type in the listing, the walk lstats each entry and decides
// exactly as with the type given.
func TestWalkUnknownDirentType(t *testing.T) {
	dir := statTree(t)
	known, err := Walk(context.Background(), dir, Options{Runtime: "python27"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := Walk(context.Background(), dir, Options{Runtime: "python27", unknownTypes: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rels(unknown), rels(known)) {
		t.Errorf("with unknown types the files are %v, with types %v", rels(unknown), rels(known))
	}
	if !reflect.DeepEqual(unknown.Skipped, known.Skipped) {
		t.Errorf("with unknown types the skipped paths are %+v, with types %+v", unknown.Skipped, known.Skipped)
	}
	for i, f := range unknown.Files {
		k := known.Files[i]
		if f.Size() != k.Size() || f.Info.Mode() != k.Info.Mode() || !f.ModTime().Equal(k.ModTime()) || f.Abs(unknown.Root) != k.Abs(known.Root) {
			t.Errorf("%s: %+v with unknown types, %+v with types", f.Path, f, k)
		}
	}
	// Every entry of every directory read: 13 in all (app.yaml, main.py,
	// main.pyc, .env.swp, .cache, lib, static, alias; a.py, a.pyc, b.py,
	// sub; c.py, #c#; twice for lib, through alias; s.css, s.css~, .hidden).
	if want := 8 + 2*(4+2) + 3; unknown.lstats != want {
		t.Errorf("with unknown types the listing made %d lstat calls, want %d (one per entry of each directory read)", unknown.lstats, want)
	}
}

// TestWalkInfoIsTheListedFile: a file's Info is its lstat, which the
// upload and the secret guard use to open exactly the listed file and to
// key the stat cache.
func TestWalkInfoIsTheListedFile(t *testing.T) {
	dir := statTree(t)
	res, err := Walk(context.Background(), dir, Options{Runtime: "python27"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		st, err := os.Stat(f.Abs(res.Root))
		if err != nil {
			t.Fatal(err)
		}
		if hashcache.StatOf(f.Info) != hashcache.StatOf(st) || f.Info.Mode() != st.Mode() || f.Info.Name() != st.Name() || f.Info.IsDir() {
			t.Errorf("%s: Info %v %v %v, the file is %v %v %v", f.Path, f.Info.Mode(), f.Info.Size(), f.Info.ModTime(), st.Mode(), st.Size(), st.ModTime())
		}
		r, err := hashcache.OpenListed(f.Abs(res.Root), f.Info)
		if err != nil {
			t.Errorf("%s: opening the listed file: %v", f.Path, err)
			continue
		}
		r.Close()
	}
	// Another file in its place is not the listed one (renamed over it,
	// so that it cannot reuse the inode).
	f := res.Files[len(res.Files)-1]
	testtree.WriteFile(t, dir, f.Path+".new", "replaced")
	if err := os.Rename(f.Abs(res.Root)+".new", f.Abs(res.Root)); err != nil {
		t.Fatal(err)
	}
	if r, err := hashcache.OpenListed(f.Abs(res.Root), f.Info); err == nil {
		r.Close()
		t.Errorf("%s: replaced, yet opened as the listed file", f.Path)
	}
}

// TestWalkLinkInfoIsItsTarget: a kept symbolic link to a file has the
// stat of what it leads to as its Info and Size (walker.setForeign), not
// its own lstat, which the listing keeps in the entry for other files.
func TestWalkLinkInfoIsItsTarget(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, "app.yaml", "runtime: python27\n")
	testtree.WriteFile(t, dir, "data/target.txt", "twenty-one bytes long")
	mustLink(t, "data/target.txt", filepath.Join(dir, "link.txt"))
	res, err := Walk(context.Background(), dir, Options{Runtime: "python27"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Stat(filepath.Join(dir, "data/target.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, f := range res.Files {
		if f.Path != "link.txt" {
			continue
		}
		found = true
		if f.Size() != want.Size() || !f.Info.Mode().IsRegular() || hashcache.StatOf(f.Info) != hashcache.StatOf(want) {
			t.Errorf("link.txt: Size %d, Info %v %d; want its target's, %v %d", f.Size(), f.Info.Mode(), f.Info.Size(), want.Mode(), want.Size())
		}
		if r, err := hashcache.OpenListed(f.Abs(res.Root), f.Info); err != nil {
			t.Errorf("link.txt: opening it as listed: %v", err)
		} else {
			r.Close()
		}
	}
	if !found {
		t.Fatalf("link.txt not in the upload set: %v", rels(res))
	}
}

// TestWalkDirectoryVanished: a directory its parent listed but which is
// gone when the walk reads it is skipped as vanished, as a file is (no
// stat stands between the two reads any more to notice it earlier).
func TestWalkDirectoryVanished(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, "app.yaml", "runtime: python27\n")
	m, err := NewMatcher(dir, Options{Runtime: "python27"})
	if err != nil {
		t.Fatal(err)
	}
	w := &walker{m: m, rep: nopReporter{}, res: &Result{Root: m.root, Matcher: m}, ahead: make(chan struct{}, 1)}
	w.bufs.New = func() any { b := make([]byte, 4096); return &b }
	if sub := w.listDir(&dirNode{rel: "gone", real: filepath.Join(dir, "gone")}); sub != nil || w.probs != nil {
		t.Errorf("a vanished directory gave subdirectories %v, problems %v", sub, w.probs)
	}
	if len(w.res.Skipped) != 1 || w.res.Skipped[0].Rel != "gone" || !w.res.Skipped[0].Dir || !strings.HasPrefix(w.res.Skipped[0].Reason, "vanished while listing") {
		t.Errorf("skipped %+v, want gone/ as vanished while listing", w.res.Skipped)
	}
}

// TestWalkAllocatesPerDirectory: the paths of a listing, and the upload
// set's absolute paths, are made in one allocation each, not one a file
// (issue 19: three strings a file, a twentieth of ls_files' time).
func TestWalkAllocatesPerDirectory(t *testing.T) {
	dir := t.TempDir()
	const n = 1000
	for i := range n {
		testtree.WriteFile(t, dir, fmt.Sprintf("static/f%04d.css", i), "x")
	}
	testtree.WriteFile(t, dir, "app.yaml", "runtime: python27\n")
	var res *Result
	allocs := testing.AllocsPerRun(1, func() {
		var err error
		if res, err = Walk(context.Background(), dir, Options{Runtime: "python27", AllowSecrets: true}, nil); err != nil {
			t.Fatal(err)
		}
	})
	if len(res.Files) != n+1 {
		t.Fatalf("%d files, want %d", len(res.Files), n+1)
	}
	// None a file is left: the fstatat of each reads the name where the
	// listing holds it (x/sys/unix made a C string of it, one a file).
	if allocs > n {
		t.Errorf("Walk made %.0f allocations for %d files in two directories; want fewer than one a file", allocs, n+1)
	}
}

// TestSortListedIsByName: sortListed orders a listing by name, byte by
// byte, as os.ReadDir does, whether it sorts by insertion (up to
// smallListing entries) or by slices.SortFunc: names that are prefixes
// of others, names sorting before and after "/" and non-ASCII bytes
// included.
func TestSortListedIsByName(t *testing.T) {
	pool := []string{"a", "a.txt", "a-b", "a0", "ab", "B", "b", "_", "~", "é", "\xff", "mod00.py", "mod01.py", "mod10.py", "m", "z"}
	for _, n := range []int{0, 1, 2, 3, 10, smallListing - 1, smallListing, smallListing + 1, 300} {
		arena := newPathArena(0)
		ents := make([]listed, n)
		names := make([]string, n)
		for i := range n {
			names[i] = pool[(i*7+n)%len(pool)] + fmt.Sprint(i%5, n-i)
			ents[i] = arena.listed("lib", names[i])
		}
		sortListed(ents)
		slices.Sort(names)
		for i := range n {
			if ents[i].name() != names[i] {
				t.Fatalf("%d entries: entry %d is %q, want %q", n, i, ents[i].name(), names[i])
			}
			if want := "lib/" + names[i]; ents[i].rel() != want {
				t.Fatalf("%d entries: entry %d is %q, want %q", n, i, ents[i].rel(), want)
			}
		}
	}
}

func TestPathArenaJoin(t *testing.T) {
	a := newPathArena(4) // too small: the arena grows, the paths made stay
	for _, tc := range []struct {
		dir  string
		name string
		want string // the path made
	}{
		{"", "a.txt", "a.txt"}, {"lib", "b.py", "lib/b.py"}, {"/", "etc", "/etc"},
		{"lib/", "c", "lib/c"}, {"", "", ""}, {"lib/sub", "d.py", "lib/sub/d.py"},
	} {
		l := a.listed(tc.dir, tc.name)
		if l.rel() != tc.want || l.name() != tc.name {
			t.Errorf("listed(%q, %q) = %q, named %q; want %q, %q", tc.dir, tc.name, l.rel(), l.name(), tc.want, tc.name)
		}
		// The name is a C string for fstatat: a NUL follows it.
		if c := unsafe.Slice(l.cname(), len(tc.name)+1); string(c[:len(tc.name)]) != tc.name || c[len(tc.name)] != 0 {
			t.Errorf("listed(%q, %q): C string %q, want the name and a NUL", tc.dir, tc.name, c)
		}
		if p, _ := a.join(tc.dir, '/', tc.name); p != tc.want {
			t.Errorf("join(%q, %q) = %q; want %q", tc.dir, tc.name, p, tc.want)
		}
	}
}

// TestWalkBytesPerFile: what the walk keeps of each file is all fresh
// memory (the listing keeps nearly all it allocates), and on a VM a fresh
// page costs as much as six stats (issue 19). The bound holds once the
// walk keeps neither the whole struct stat nor a C string of each name,
// nor an absolute path of each file, the sorted list of the files
// kept is made once, at its size, and a file's stat is kept in its listed
// entry (80 bytes) rather than in a FileInfo of its own beside a 56-byte
// entry: 520 bytes a file here (besides the path) before all that, 410
// after the first two, 355 before the third, 268 before the last.
func TestWalkBytesPerFile(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates for itself")
	}
	dir := t.TempDir()
	const n = 4000
	for i := range n {
		testtree.WriteFile(t, dir, fmt.Sprintf("static/d%02d/f%04d.css", i%40, i), "x")
	}
	testtree.WriteFile(t, dir, "app.yaml", "runtime: python27\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Walk(context.Background(), dir, Options{Runtime: "python27", AllowSecrets: true}, nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != n+1 {
		t.Fatalf("%d files, want %d", len(res.Files), n+1)
	}
	// Per file: its File (40 bytes: 112 while it held the modification
	// time beside Info, 88 while it held its size, its generated content
	// and its absolute path), its listing entry with its stat (72), its
	// path from the root (made once: not the app directory's path again in
	// every file, which made the bytes grow with it), and its place in the
	// sorted list. 180 bytes here; 266 (with the directory's 39) before.
	perFile := int(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("%d bytes a file (the path of the app directory: %d)", perFile, len(dir))
	if limit := 195; perFile > limit {
		t.Errorf("Walk allocated %d bytes a file; want at most %d", perFile, limit)
	}
}

// quietRecorder is a recorder that says whether it takes status lines.
type quietRecorder struct {
	recorder
	details bool
}

func (r *quietRecorder) Details() bool { return r.details }

// TestWalkStatusOnlyWhenWanted: a reporter that drops the status lines
// (ls_files without -v) is not sent one a skipped path, made by
// fmt.Sprintf each (issue 19); one that takes them, or does not say, gets
// them all; the skipped paths and their reasons are the same.
func TestWalkStatusOnlyWhenWanted(t *testing.T) {
	dir := statTree(t)
	var plain recorder
	quiet, verbose := &quietRecorder{}, &quietRecorder{details: true}
	var results []*Result
	for _, rep := range []Reporter{&plain, quiet, verbose} {
		res, err := Walk(context.Background(), dir, Options{Runtime: "python27"}, rep)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	if len(plain.status) == 0 || !reflect.DeepEqual(verbose.status, plain.status) {
		t.Errorf("status lines: %q without Details, %q with Details true; want the same, one a skipped path", plain.status, verbose.status)
	}
	if len(quiet.status) != 0 {
		t.Errorf("a reporter without details was sent %q", quiet.status)
	}
	for _, res := range results[1:] {
		if !reflect.DeepEqual(res.Skipped, results[0].Skipped) {
			t.Errorf("skipped %v, want %v", res.Skipped, results[0].Skipped)
		}
	}
	if s := results[0].Skipped; len(s) == 0 || !strings.HasPrefix(s[0].Reason, "matches ") {
		t.Errorf("skipped %v, want reasons naming the rules", s)
	}
}

// TestWalkAsksForTheCacheOnce: the stat cache is asked for once, when
// the secret guard runs, after the listing (so ls_files loads it while
// the directories are listed), and not at all without the guard; the
// guard's clean verdicts land in it, and a secret's does not, so a
// second walk with the cache finds the secret again, and one finds a
// file changed since its clean verdict to hold a key.
func TestWalkAsksForTheCacheOnce(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"app.yaml", "main.py", "lib/a.py"} {
		testtree.WriteFile(t, dir, p, "content of "+p)
	}
	testtree.WriteFile(t, dir, "lib/.env", "A=1")
	old := time.Now().Add(-time.Hour) // out of the cache's racy window
	for _, p := range []string{"app.yaml", "main.py", "lib/a.py", "lib/.env"} {
		if err := os.Chtimes(filepath.Join(dir, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "cache")
	cache, calls := hashcache.Open(path), 0
	opts := Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml",
		Cache: func() *hashcache.Cache { calls++; return cache }}
	res, err := Walk(context.Background(), dir, opts, nil)
	if e := (*Error)(nil); !errors.As(err, &e) || len(e.Problems) != 1 || e.Problems[0].Path != "lib/.env" {
		t.Fatalf("error %v; want the secret lib/.env", err)
	}
	if calls != 1 {
		t.Fatalf("the cache was asked for %d times, want once", calls)
	}
	if err := cache.Save(); err != nil {
		t.Fatal(err)
	}
	saved := hashcache.Open(path)
	for _, f := range res.Files {
		if got, want := saved.Passed(f.Path, hashcache.StatOf(f.Info), secretVerdictTag()), f.Path != "lib/.env"; got != want {
			t.Errorf("%s: cached clean verdict %v, want %v", f.Path, got, want)
		}
	}
	again := hashcache.Open(path)
	opts.Cache = func() *hashcache.Cache { return again }
	res, err = Walk(context.Background(), dir, opts, nil)
	if e := (*Error)(nil); !errors.As(err, &e) || len(e.Problems) != 1 || e.Problems[0].Path != "lib/.env" {
		t.Fatalf("second walk: error %v; want the secret lib/.env", err)
	}
	for _, f := range res.Files {
		if got, want := again.Passed(f.Path, hashcache.StatOf(f.Info), secretVerdictTag()), f.Path != "lib/.env"; got != want {
			t.Errorf("second walk: %s: clean verdict %v, want %v", f.Path, got, want)
		}
	}
	// A file changed since its verdict is read again: here it now holds
	// a secret, found although the cache held a clean verdict for it.
	testtree.WriteFile(t, dir, "main.py", "KEY = '''"+string(testKeys()["rsa-pkcs1"])+"'''\n")
	if err := os.Chtimes(filepath.Join(dir, "main.py"), old, old); err != nil {
		t.Fatal(err)
	}
	saved = hashcache.Open(path)
	opts.Cache = func() *hashcache.Cache { return saved }
	if _, err := Walk(context.Background(), dir, opts, nil); !errors.As(err, new(*Error)) || !strings.Contains(err.Error(), "main.py") {
		t.Errorf("main.py changed to hold a key: error %v; want it found", err)
	}
	calls = 0
	opts.Cache = func() *hashcache.Cache { calls++; return cache }
	opts.AllowSecrets = true
	if _, err := Walk(context.Background(), dir, opts, nil); err != nil || calls != 0 {
		t.Errorf("AllowSecrets: %v, cache asked for %d times; want no error and no call", err, calls)
	}
}

// TestWalkFillsLargeSetsInTwo: an upload set large enough to be written
// by two goroutines (files) is the same as one written by one: every
// File in path order, with its own path, size and stat.
func TestWalkFillsLargeSetsInTwo(t *testing.T) {
	dir := t.TempDir()
	const n = 2*fillSplit + 7
	for i := range n {
		testtree.WriteFile(t, dir, fmt.Sprintf("d%d/f%05d.txt", i%3, i), strings.Repeat("x", i%50))
	}
	res, err := Walk(context.Background(), dir, Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml", AllowSecrets: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != n {
		t.Fatalf("%d files, want %d", len(res.Files), n)
	}
	for i, f := range res.Files {
		var j int
		if _, err := fmt.Sscanf(f.Path[len("d0/"):], "f%05d.txt", &j); err != nil || f.Path != fmt.Sprintf("d%d/f%05d.txt", j%3, j) {
			t.Fatalf("file %d is %q", i, f.Path)
		}
		if i > 0 && res.Files[i-1].Path >= f.Path {
			t.Errorf("%q after %q: not in path order", f.Path, res.Files[i-1].Path)
		}
		if f.Abs(res.Root) != filepath.Join(dir, filepath.FromSlash(f.Path)) || f.Size() != int64(j%50) || f.Info == nil || f.Info.Size() != f.Size() || f.Info.Name() != filepath.Base(f.Abs(res.Root)) {
			t.Errorf("%s: %+v", f.Path, f)
		}
	}
}
