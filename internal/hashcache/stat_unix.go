//go:build unix

package hashcache

import (
	"io/fs"
	"syscall"
)

func fillSys(s *Stat, fi fs.FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Inode = uint64(st.Ino)
		s.CTime = ctimeNanos(st)
	}
}
