//go:build unix && !(linux && (amd64 || arm64))

package diskfile

import "golang.org/x/sys/unix"

// StatAtNul is unix.Fstatat of a NUL-terminated name (see
// statat_linux.go for why it exists).
func StatAtNul(dirfd int, name *byte, st *unix.Stat_t, flags int) error {
	return unix.Fstatat(dirfd, unix.BytePtrToString(name), st, flags)
}
