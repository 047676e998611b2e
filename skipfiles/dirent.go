package skipfiles

import (
	"io/fs"
	"slices"
	"strings"
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

// newListed is the entry name of the directory rel ("" for the root):
// one string holds its path, and its name is the end of it.
func newListed(rel, name string) listed {
	if rel == "" {
		return listed{dirent: dirent{name: name}, rel: name}
	}
	p := rel + "/" + name
	return listed{dirent: dirent{name: p[len(rel)+1:]}, rel: p}
}
