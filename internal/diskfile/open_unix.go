//go:build unix

package diskfile

import (
	"io/fs"
	"os"
	"syscall"
)

// Open opens name for reading, as os.Open does.
func Open(name string) (*os.File, error) { return open(name, syscall.O_RDONLY, 0) }

// CreateNew creates name for writing with perm, failing (fs.ErrExist) when
// it exists, as os.OpenFile with O_WRONLY|O_CREATE|O_EXCL does.
func CreateNew(name string, perm fs.FileMode) (*os.File, error) {
	return open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL, uint32(perm.Perm()))
}

func open(name string, flag int, perm uint32) (*os.File, error) {
	for {
		fd, err := syscall.Open(name, flag|syscall.O_CLOEXEC, perm)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}
