//go:build linux && (amd64 || arm64)

package diskfile

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// StatAtNul is fstatat(2) of a name already ended by a NUL in memory the
// caller keeps (the walk's listing arena holds each name so; the store's
// blob check builds each on its stack): unix.Fstatat copies the name into
// a fresh NUL-terminated buffer on the heap for each call, and an
// unchanged redeploy stats every file of the app and every blob it holds
// (10,000 allocations, and their fresh pages, for a 5,000-file app). An
// interrupted call is made again.
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
