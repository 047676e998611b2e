package hashcache

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/appcfg/appcfg/internal/privfile"
)

// formatLine identifies the file format; a file with another first line is
// ignored (version 1 held hashes only, no check marks).
const formatLine = "appcfg-hashcache 2"

// racyWindow is how recent a modification may be for the hash to be trusted later.
const racyWindow = 2 * time.Second

// Stat is the part of a file's metadata that says whether it changed.
type Stat struct {
	Size  int64
	MTime int64 // nanoseconds
	CTime int64 // nanoseconds; 0 where the platform has none
	Inode uint64
}

// StatOf extracts Stat from a FileInfo.
func StatOf(fi fs.FileInfo) Stat {
	s := Stat{Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	fillSys(&s, fi)
	return s
}

// entry is what is known of a file with the stat data stat: its SHA-1
// ("" when not hashed) and the checks its content passed, as
// comma-separated tags ("" for none). used says it was looked up or stored
// in this run, which keeps it in the file Save writes.
type entry struct {
	stat  Stat
	sum   string
	marks string
	used  bool
}

func (e entry) passed(tag string) bool {
	for m := range strings.SplitSeq(e.marks, ",") {
		if m == tag {
			return true
		}
	}
	return false
}

// Cache maps paths relative to an app root to what is known of the files'
// contents: their hashes, and which content checks they passed. A verdict
// holds only as long as the stat data it was taken with, by the same rules
// as a hash. It is safe for concurrent use.
type Cache struct {
	path string
	now  func() time.Time

	mu sync.Mutex
	// entries holds the file's entries as loaded, updated in place by
	// this run: one map, not one per source, since an unchanged redeploy
	// touches every entry and each map of thousands costs its memory.
	entries map[string]entry
	used    int  // entries with used set
	dirty   bool // an entry was stored that the file lacks
}

// Open loads the cache file at path. A missing or unreadable cache is not an
// error: it only means every file is hashed and checked again.
func Open(path string) *Cache {
	c := &Cache{path: path, now: time.Now, entries: map[string]entry{}}
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	// One string for the whole file: the entries' paths, digests and marks
	// are slices of it, not an allocation each. It shares data's memory
	// rather than copying it (a copy of a 5,000-entry cache costs as much
	// as parsing it): data is never written again.
	text := unsafe.String(unsafe.SliceData(data), len(data))
	first, rest, _ := strings.Cut(text, "\n")
	if first != formatLine {
		return c
	}
	// Sized for every line at once: growing a map of thousands of entries
	// step by step costs more than the parsing.
	c.entries = make(map[string]entry, strings.Count(rest, "\n")+1)
	for line := range strings.Lines(rest) {
		if rel, e, ok := parseLine(strings.TrimSuffix(line, "\n")); ok {
			c.entries[rel] = e
		}
	}
	return c
}

// current returns what is known of rel with the stat data st (ok false: a
// fresh entry for st); c.mu is held.
func (c *Cache) current(rel string, st Stat) (e entry, ok bool) {
	e, found := c.entries[rel]
	if found && e.stat == st {
		return e, true
	}
	return entry{stat: st, used: e.used}, false
}

// keep stores e as what is known of rel and marks it used; c.mu is held.
func (c *Cache) keep(rel string, e entry) {
	if !e.used {
		e.used = true
		c.used++
	}
	c.entries[rel] = e
}

// Lookup returns the cached SHA-1 (hex) of rel when its stat data is unchanged.
func (c *Cache) Lookup(rel string, st Stat) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.current(rel, st)
	if !ok || e.sum == "" {
		return "", false
	}
	c.keep(rel, e)
	return e.sum, true
}

// Store records the SHA-1 of rel, hashed when its stat data was st.
func (c *Cache) Store(rel string, st Stat, sum string) {
	if c.racy(st) {
		return
	}
	c.mu.Lock()
	e, _ := c.current(rel, st)
	e.sum = sum
	c.keep(rel, e)
	c.dirty = true
	c.mu.Unlock()
}

// Passed reports whether the content of rel passed the check named tag
// when its stat data was st, as it is now: the check need not read it
// again.
func (c *Cache) Passed(rel string, st Stat, tag string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.current(rel, st)
	if !ok {
		return false
	}
	c.keep(rel, e) // keeps its hash too, when Save runs
	return e.passed(tag)
}

// Pass records that the content of rel, read when its stat data was st,
// passed the check named tag (no commas or spaces).
func (c *Cache) Pass(rel string, st Stat, tag string) {
	if c.racy(st) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, _ := c.current(rel, st)
	if e.passed(tag) {
		c.keep(rel, e)
		return
	}
	if e.marks != "" {
		e.marks += ","
	}
	e.marks += tag
	c.keep(rel, e)
	c.dirty = true
}

// racy reports whether a file with stat data st was modified too recently
// for what was read from it to be trusted later.
func (c *Cache) racy(st Stat) bool {
	return c.now().UnixNano()-st.MTime < int64(racyWindow)
}

// Save writes the entries used in this run (so deleted files drop out) to a
// temporary file and renames it over the cache.
func (c *Cache) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty && c.used == len(c.entries) {
		// Every entry was looked up unchanged: the file already says it.
		return nil
	}
	if err := privfile.MkdirAll(filepath.Dir(c.path)); err != nil {
		return fmt.Errorf("save hash cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".hashcache-*")
	if err != nil {
		return fmt.Errorf("save hash cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	fmt.Fprintln(w, formatLine)
	for rel, e := range c.entries {
		if !e.used {
			continue
		}
		fmt.Fprintf(w, "%s %d %d %d %d %s %s\n", cmp.Or(e.sum, "-"), e.stat.Size, e.stat.MTime, e.stat.CTime, e.stat.Inode,
			cmp.Or(e.marks, "-"), strconv.Quote(rel))
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("save hash cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save hash cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("save hash cache: %w", err)
	}
	return nil
}

// parseLine parses one entry: "SUM SIZE MTIME CTIME INODE MARKS PATH", SUM and
// MARKS "-" for none, PATH quoted.
func parseLine(line string) (string, entry, bool) {
	var f [6]string
	rest := line
	for i := range f {
		var ok bool
		if f[i], rest, ok = strings.Cut(rest, " "); !ok {
			return "", entry{}, false
		}
	}
	if (len(f[0]) != 40 && f[0] != "-") || f[5] == "" {
		return "", entry{}, false
	}
	var e entry
	var errs [4]error
	if f[0] != "-" {
		e.sum = f[0]
	}
	if f[5] != "-" {
		e.marks = f[5]
	}
	e.stat.Size, errs[0] = strconv.ParseInt(f[1], 10, 64)
	e.stat.MTime, errs[1] = strconv.ParseInt(f[2], 10, 64)
	e.stat.CTime, errs[2] = strconv.ParseInt(f[3], 10, 64)
	e.stat.Inode, errs[3] = strconv.ParseUint(f[4], 10, 64)
	rel, err := unquote(rest)
	for _, e := range errs {
		if e != nil {
			err = e
		}
	}
	return rel, e, err == nil
}

// unquote is strconv.Unquote without its copy for the usual path, which
// needs no escape: that one is returned as a slice of s.
func unquote(s string) (string, error) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !strings.ContainsAny(s[1:len(s)-1], "\\\"") {
		if inner := s[1 : len(s)-1]; utf8.ValidString(inner) && strings.IndexFunc(inner, unicode.IsControl) < 0 {
			return inner, nil
		}
	}
	return strconv.Unquote(s)
}

// bufPool holds read buffers, so hashing many files in parallel allocates
// a fixed amount of memory.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 256*1024); return &b }}

// ErrChanged means a path no longer names the file that was listed: it was
// replaced, or a symbolic link on the way now leads elsewhere.
var ErrChanged = errors.New("no longer the file that was listed (replaced, or a link changed); run the deploy again")

// OpenListed opens path and checks that it is the file whose metadata is
// listed (by device and inode where the platform has them), so that what
// is read is what the walk resolved and the rules accepted, even when a
// link on the way was swapped since. listed nil means no check.
func OpenListed(path string, listed fs.FileInfo) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil || listed == nil {
		return f, err
	}
	got, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !sameFile(listed, got) {
		f.Close()
		return nil, ErrChanged
	}
	return f, nil
}

// HashFile returns the SHA-1 (hex) and size of the file at path, reading it
// as a stream; listed, when set, is the file it must be (see OpenListed).
// ctx is checked between reads so a large file can be abandoned.
func HashFile(ctx context.Context, path string, listed fs.FileInfo) (string, int64, error) {
	f, err := OpenListed(path, listed)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	h := sha1.New()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", n, err
		}
		m, err := f.Read(*bp)
		h.Write((*bp)[:m])
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", n, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
