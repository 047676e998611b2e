//go:build linux && (amd64 || arm64)

package diskfile

import (
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// StatAt is unix.Fstatat without its allocation: x/sys/unix copies the
// name into a fresh NUL-terminated buffer on the heap for each call, and
// an unchanged redeploy stats every blob of the app (5,000 allocations,
// and their fresh pages, for a 5,000-file app). The name goes through a
// buffer on the stack instead; a longer one than a file name can be goes
// the usual way.
func StatAt(dirfd int, name string, st *unix.Stat_t, flags int) error {
	var buf [256]byte // NAME_MAX and the NUL
	if len(name) >= len(buf) {
		return unix.Fstatat(dirfd, name, st, flags)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return unix.EINVAL // as unix.BytePtrFromString refuses it
	}
	copy(buf[:], name)
	buf[len(name)] = 0
	_, _, errno := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(&buf[0])),
		uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
