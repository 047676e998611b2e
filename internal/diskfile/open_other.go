//go:build !unix

package diskfile

import (
	"io/fs"
	"os"
)

// Open opens name for reading (os.Open).
func Open(name string) (*os.File, error) { return os.Open(name) }

// CreateNew creates name for writing with perm, failing (fs.ErrExist) when
// it exists.
func CreateNew(name string, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}
