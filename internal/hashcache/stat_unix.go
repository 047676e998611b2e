//go:build unix

package hashcache

import (
	"io/fs"
	"os"
	"syscall"
)

func fillSys(s *Stat, fi fs.FileInfo) {
	if id, ok := fi.(Identified); ok {
		_, s.Inode, s.CTime = id.Identity()
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Inode = uint64(st.Ino)
		s.CTime = ctimeNanos(st)
	}
}

// sameFile is os.SameFile for any FileInfo carrying a *syscall.Stat_t or
// its own Identity: the walk stats files relative to their directory
// (skipfiles) and so builds its own FileInfo, which os.SameFile does not
// recognise.
func sameFile(a, b fs.FileInfo) bool {
	if da, ia, ok := identity(a); ok {
		if db, ib, ok := identity(b); ok {
			return da == db && ia == ib
		}
	}
	return os.SameFile(a, b)
}

// identity is a file's device and inode, from either kind of FileInfo.
func identity(fi fs.FileInfo) (dev, ino uint64, ok bool) {
	if id, ok := fi.(Identified); ok {
		dev, ino, _ = id.Identity()
		return dev, ino, true
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino), true
	}
	return 0, 0, false
}
