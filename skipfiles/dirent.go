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

// sortDirents puts a listing in name order (byte order), as os.ReadDir
// does: the walk's output and hasEntry depend on it.
func sortDirents(ents []dirent) {
	slices.SortFunc(ents, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
}
