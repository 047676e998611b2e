//go:build unix

package diskfull

import "golang.org/x/sys/unix"

// freeBytes returns the space an unprivileged user may still use on the
// file system holding dir, and whether it could be read.
func freeBytes(dir string) (uint64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
