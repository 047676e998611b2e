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
	return StatAtNul(dirfd, &buf[0], st, flags)
}

// StatAtNul is fstatat(2) of a name already ended by a NUL in memory the
// caller keeps (the walk's listing arena holds each name so): no copy at
// all. An interrupted call is made again.
func StatAtNul(dirfd int, name *byte, st *unix.Stat_t, flags int) error {
	for {
		_, _, errno := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
			uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return errno
	}
}
