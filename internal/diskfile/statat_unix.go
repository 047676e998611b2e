//go:build unix && !(linux && (amd64 || arm64))

package diskfile

import "golang.org/x/sys/unix"

// StatAt is unix.Fstatat (see statat_linux.go for why it exists).
func StatAt(dirfd int, name string, st *unix.Stat_t, flags int) error {
	return unix.Fstatat(dirfd, name, st, flags)
}

// StatAtNul is StatAt of a NUL-terminated name (see statat_linux.go).
func StatAtNul(dirfd int, name *byte, st *unix.Stat_t, flags int) error {
	return StatAt(dirfd, unix.BytePtrToString(name), st, flags)
}
