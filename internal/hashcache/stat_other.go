//go:build !unix

package hashcache

import (
	"io/fs"
	"os"
)

func fillSys(s *Stat, fi fs.FileInfo) {
	if id, ok := fi.(Identified); ok {
		_, s.Inode, s.CTime = id.Identity()
	}
}

func sameFile(a, b fs.FileInfo) bool {
	ia, ok1 := a.(Identified)
	ib, ok2 := b.(Identified)
	if ok1 && ok2 {
		da, na, _ := ia.Identity()
		db, nb, _ := ib.Identity()
		return da == db && na == nb
	}
	return os.SameFile(a, b)
}
