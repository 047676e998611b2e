package skipfiles

import (
	"io/fs"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// sortListed puts a listing in name order (byte order), as os.ReadDir
// does: the walk's output and hasEntry depend on it. The paths of one
// listing differ only in their names, which are compared alone (not the
// directory's path before them).
//
// A directory of up to smallListing entries is sorted by insertion: a
// read-ahead goroutine starts on a 2 KiB stack, which slices.SortFunc's
// recursion outgrew in most directories, and each growth copied the stack
// into a fresh one (a third of all the stack growths of an ls_files).
func sortListed(ents []listed) {
	if len(ents) > smallListing {
		slices.SortFunc(ents, func(a, b listed) int { return strings.Compare(a.name(), b.name()) })
		return
	}
	for i := 1; i < len(ents); i++ {
		e := ents[i]
		j := i
		for ; j > 0 && ents[j-1].name() > e.name(); j-- {
			ents[j] = ents[j-1]
		}
		ents[j] = e
	}
}

// smallListing is the largest listing sortListed sorts by insertion: a
// few hundred comparisons of names at most.
const smallListing = 48

// pathArena makes many paths in one allocation: the paths of a listing.
// An allocation per path cost ls_files a
// twentieth of its time for 10,000 files. The strings share the arena's
// memory, which is only ever appended to.
type pathArena []byte

// newPathArena is an arena for n bytes of paths (more only costs a
// reallocation, which leaves the strings made before as they are).
func newPathArena(n int) pathArena { return make(pathArena, 0, n) }

// join returns dir, sep and name joined; no separator after an empty dir,
// or after a dir that ends with one (the root, "/").
func (a *pathArena) join(dir string, sep byte, name string) (p string, nameAt int) {
	start := len(*a)
	*a = append(*a, dir...)
	if dir != "" && dir[len(dir)-1] != sep {
		*a = append(*a, sep)
	}
	nameAt = len(*a) - start
	*a = append(*a, name...)
	if len(*a) == start {
		return "", 0
	}
	return unsafe.String(&(*a)[start], len(*a)-start), nameAt
}

// listed is the entry name of the directory dir: one string, made in a,
// holds dir/name (dir is the directory's path from the root). A NUL byte
// follows it in a, so that the name is a C string too (cname).
func (a *pathArena) listed(dir, name string) listed {
	// Room first, so that the path and its NUL share one buffer.
	*a = slices.Grow(*a, len(dir)+1+len(name)+1)
	p, at := a.join(dir, '/', name)
	*a = append(*a, 0)
	return listed{path: unsafe.StringData(p), pathLen: uint16(len(p)), nameAt: uint16(at)}
}

// cname is the entry's name as a C string: the arena's bytes, which the
// NUL written after them ends (pathArena.listed made every listed). Valid
// as long as the arena is.
func (e *listed) cname() *byte {
	if e.pathLen == 0 {
		return &emptyCString[0]
	}
	return unsafe.StringData(e.rel()[e.nameAt:])
}

var emptyCString = [1]byte{0}

// entryStat is what the walk keeps of an entry's lstat besides its mode:
// what the limits, the stat cache and hashcache.OpenListed read.
type entryStat struct {
	size         int64
	mtime, ctime int64 // nanoseconds
	dev, ino     uint64
}

// entryInfo is a listed entry stat'ed into itself (listed.stated, where
// dirHandle.lstat fills it), as its fs.FileInfo: the File of a kept file
// points at its entry, so a file's stat takes no memory of its own.
// It is a hashcache.Identified: Sys is nil (the struct stat is not kept),
// Identity gives what hashcache reads of it.
type entryInfo listed

func (e *entryInfo) Name() string       { return (*listed)(e).name() }
func (e *entryInfo) Size() int64        { return e.st.size }
func (e *entryInfo) Mode() fs.FileMode  { return e.mode }
func (e *entryInfo) ModTime() time.Time { return time.Unix(0, e.st.mtime) }
func (e *entryInfo) IsDir() bool        { return e.mode.IsDir() }
func (e *entryInfo) Sys() any           { return nil }

// Identity is the device, inode and change time (hashcache.Identified).
func (e *entryInfo) Identity() (dev, ino uint64, ctime int64) {
	return e.st.dev, e.st.ino, e.st.ctime
}
