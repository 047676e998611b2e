//go:build unix

package hashcache

import (
	"io/fs"
	"os"
	"syscall"
)

func fillSys(s *Stat, fi fs.FileInfo) {
	if _, ino, ctime, ok := identity(fi); ok {
		s.Inode, s.CTime = ino, ctime
	}
}

// sameFile is os.SameFile for any FileInfo carrying a *syscall.Stat_t or
// its own Identity: the walk stats files relative to their directory
// (skipfiles) and so builds its own FileInfo, which os.SameFile does not
// recognise.
func sameFile(a, b fs.FileInfo) bool {
	if da, ia, _, ok := identity(a); ok {
		if db, ib, _, ok := identity(b); ok {
			return da == db && ia == ib
		}
	}
	return os.SameFile(a, b)
}

// identity is a file's device and inode numbers and change time, from
// either kind of FileInfo.
func identity(fi fs.FileInfo) (dev, ino uint64, ctime int64, ok bool) {
	if id, ok := fi.(Identified); ok {
		dev, ino, ctime = id.Identity()
		return dev, ino, ctime, true
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino), ctimeNanos(st), true
	}
	return 0, 0, 0, false
}
