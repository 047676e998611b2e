//go:build unix

package hashcache

import (
	"io/fs"
	"os"
	"syscall"
)

func fillSys(s *Stat, fi fs.FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Inode = uint64(st.Ino)
		s.CTime = ctimeNanos(st)
	}
}

// sameFile is os.SameFile for any FileInfo carrying a *syscall.Stat_t:
// the walk stats files relative to their directory (skipfiles) and so
// builds its own FileInfo, which os.SameFile does not recognise.
func sameFile(a, b fs.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	if ok1 && ok2 {
		return sa.Dev == sb.Dev && sa.Ino == sb.Ino
	}
	return os.SameFile(a, b)
}
