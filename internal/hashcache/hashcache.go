package hashcache

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/appcfg/appcfg/internal/diskfile"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
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

// Identified is a FileInfo that says itself which file it describes and
// when that file's inode last changed, where other FileInfos carry a
// *syscall.Stat_t in Sys: skipfiles' stats keep these few fields instead of
// the whole struct (10,000 files' stats were a megabyte of fresh memory,
// 250 page faults). StatOf and OpenListed read either kind.
type Identified interface {
	fs.FileInfo
	// Identity is the device and inode numbers and the change time
	// (nanoseconds; 0 where the platform has none).
	Identity() (dev, ino uint64, ctime int64)
}

// StatOf extracts Stat from a FileInfo.
func StatOf(fi fs.FileInfo) Stat {
	s := Stat{Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	fillSys(&s, fi)
	return s
}

// entry is what is known of a file with the stat data stat: its SHA-1
// ("" when not hashed) and the checks its content passed, as
// comma-separated tags ("" for none).
type entry struct {
	stat  Stat
	sum   string
	marks string
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
//
// The file's entries are not loaded into a map: they stay lines of the
// file's text, sorted by path, found by their position (see file.go). A
// map of 10,000 entries cost ls_files a tenth of its time to build, mostly
// in page faults, for one lookup of each entry.
type Cache struct {
	path string
	now  func() time.Time

	mu    sync.Mutex
	file  lines            // the file's entries, as loaded
	fresh map[string]entry // entries stored or changed in this run; they replace the file's
	dirty bool             // the file must be rewritten even if every line was used

	// mapped says file's text is the file mapped into memory (see
	// readFile): it is read only under guard, and what leaves the cache
	// is copied out of it first (own), sums into sums.
	mapped bool
	region string // the mapping, as a string: where a fault is the file's
	sums   []byte
}

// Open loads the cache file at path. A missing or unreadable cache is not an
// error: it only means every file is hashed and checked again.
func Open(path string) *Cache {
	c := &Cache{path: path, now: time.Now}
	data, mapped, err := readFile(path, c)
	if err != nil || data == nil {
		return c
	}
	if c.mapped = mapped; mapped {
		c.region = unsafe.String(unsafe.SliceData(data), len(data))
	}
	c.guard(func() {
		// A file of an older appcfg, whose lines were not in order, is
		// put in order once and written so.
		c.file, c.dirty = loadLines(data)
	})
	return c
}

// guard runs f, which may read the file's text, and reports whether it
// could. A mapped file truncated behind the process (the cache is only
// ever replaced by a rename, but anyone may truncate it) makes a read past
// its new end fault: that read panics instead of killing the process, and
// the cache forgets the file, as if it had been missing (its files are
// hashed and checked again), keeping what this run stored. A fault
// elsewhere is not the file's: it panics on. c.mu is held (or c is not
// yet shared).
func (c *Cache) guard(f func()) (ok bool) {
	if !c.mapped {
		f()
		return true
	}
	defer func() {
		if r := recover(); r != nil {
			fault, isFault := r.(interface{ Addr() uintptr })
			base := uintptr(unsafe.Pointer(unsafe.StringData(c.region)))
			if !isFault || fault.Addr() < base || fault.Addr() >= base+uintptr(len(c.region)) {
				panic(r)
			}
			c.file, c.mapped, c.region, c.dirty, ok = lines{}, false, "", true, false
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	f()
	return true
}

// own returns e with its digest and marks copied out of the file's text
// when that is mapped, so they stay readable whatever happens to the file;
// c.mu is held, under guard.
func (c *Cache) own(e entry) entry {
	if !c.mapped {
		return e
	}
	if e.sum != "" {
		if c.sums == nil {
			// One array for a run's digests: a lookup each of the file's.
			c.sums = make([]byte, 0, max(len(c.file.at), 64)*sha1.Size*2)
		}
		start := len(c.sums)
		c.sums = append(c.sums, e.sum...)
		e.sum = unsafe.String(&c.sums[start], len(e.sum)) // never written again: appends move on
	}
	e.marks = strings.Clone(e.marks)
	return e
}

// current returns what is known of rel with the stat data st (ok false: a
// fresh entry for st) and the line of the file it is, -1 for none; c.mu is
// held.
func (c *Cache) current(rel string, st Stat) (e entry, line int, ok bool) {
	if e, found := c.fresh[rel]; found {
		if e.stat == st {
			return e, -1, true
		}
		return entry{stat: st}, -1, false
	}
	if i, found := c.file.find(rel); found {
		if e, ok := c.file.entry(i); ok && e.stat == st {
			return e, i, true
		}
	}
	return entry{stat: st}, -1, false
}

// keep stores e as what is known of rel, which Save then writes: the file's
// line when e is line's unchanged, else a fresh entry; c.mu is held,
// under guard.
func (c *Cache) keep(rel string, e entry, line int) {
	if line >= 0 {
		c.file.use(line)
		return
	}
	if c.fresh == nil {
		c.fresh = map[string]entry{}
	}
	c.fresh[rel] = c.own(e)
}

// Lookup returns the cached SHA-1 (hex) of rel when its stat data is unchanged.
func (c *Cache) Lookup(rel string, st Stat) (sum string, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guard(func() {
		e, line, ok := c.current(rel, st)
		if !ok || e.sum == "" {
			return
		}
		c.keep(rel, e, line)
		sum, found = c.own(entry{sum: e.sum}).sum, true
	})
	return sum, found
}

// Store records the SHA-1 of rel, hashed when its stat data was st.
func (c *Cache) Store(rel string, st Stat, sum string) {
	if c.racy(st) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guard(func() {
		e, _, _ := c.current(rel, st)
		e.sum = sum
		c.keep(rel, e, -1)
	})
	c.dirty = true
}

// Passed reports whether the content of rel passed the check named tag
// when its stat data was st, as it is now: the check need not read it
// again.
func (c *Cache) Passed(rel string, st Stat, tag string) (passed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guard(func() {
		e, line, ok := c.current(rel, st)
		if !ok {
			return
		}
		c.keep(rel, e, line) // keeps its hash too, when Save runs
		passed = e.passed(tag)
	})
	return passed
}

// Pass records that the content of rel, read when its stat data was st,
// passed the check named tag (no commas or spaces).
func (c *Cache) Pass(rel string, st Stat, tag string) {
	if c.racy(st) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guard(func() {
		e, line, _ := c.current(rel, st)
		if e.passed(tag) {
			c.keep(rel, e, line)
			return
		}
		if e.marks != "" {
			e.marks += ","
		}
		e.marks += tag
		c.keep(rel, e, -1)
		c.dirty = true
	})
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
	if !c.dirty && c.file.allUsed() {
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
	if !c.guard(func() { c.file.write(w, c.fresh) }) {
		tmp.Close()
		return fmt.Errorf("save hash cache: %s was truncated while in use; the next deploy hashes and checks its files again", c.path)
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
	f, err := diskfile.Open(path)
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
