package skipfiles

import (
	"io/fs"
	"slices"
	"strings"
	"unsafe"
)

// dirent is one name a directory lists, with its type as the listing gives
// it (Linux's d_type): the walk decides a path by its name and type, and
// stats only the files it keeps.
type dirent struct {
	name string
	typ  fs.FileMode // type bits only (fs.ModeType); meaningless when unknown
	// unknown: the file system did not say (DT_UNKNOWN, as on some network
	// and older file systems); the walk lstats the entry to learn it.
	unknown bool
}

func (e dirent) isDir() bool     { return e.typ&fs.ModeDir != 0 }
func (e dirent) isSymlink() bool { return e.typ&fs.ModeSymlink != 0 }

// sortListed puts a listing in name order (byte order), as os.ReadDir
// does: the walk's output and hasEntry depend on it.
func sortListed(ents []listed) {
	slices.SortFunc(ents, func(a, b listed) int { return strings.Compare(a.name, b.name) })
}

// pathArena makes many paths in one allocation: the paths of a listing,
// the upload set's absolute paths. An allocation per path cost ls_files a
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

// listed is the entry name of the directory rel ("" for the root): one
// string, made in a, holds its path, and its name is the end of it. A NUL
// byte follows it in a, so that the name is a C string too (cname).
func (a *pathArena) listed(rel, name string) listed {
	// Room first, so that the path and its NUL share one buffer.
	*a = slices.Grow(*a, len(rel)+1+len(name)+1)
	p, at := a.join(rel, '/', name)
	*a = append(*a, 0)
	return listed{dirent: dirent{name: p[at:]}, rel: p}
}

// cname is the entry's name as a C string: the arena's bytes, which the
// NUL written after them ends (pathArena.listed made every listed). Valid
// as long as e.name is.
func (e *listed) cname() *byte {
	if e.name == "" {
		return &emptyCString[0]
	}
	return unsafe.StringData(e.name)
}

var emptyCString = [1]byte{0}
