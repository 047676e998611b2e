//go:build !unix

package local

import (
	"os"
	"path/filepath"
)

// blobsDir is the store's blobs directory, for a check of its files.
type blobsDir struct{ path string }

// openBlobsDir returns the blobs directory at path, an error when there
// is none.
func openBlobsDir(path string) (blobsDir, error) {
	_, err := os.Stat(path)
	return blobsDir{path}, err
}

func (d blobsDir) close() {}

// inPlace sets each check's ok when d holds its blob's file (ab/cdef…) as
// a regular file of its size.
func (d blobsDir) inPlace(checks []blobCheck) {
	for i := range checks {
		c := &checks[i]
		if !isDigest(c.digest) {
			c.ok = false // it names no blob file
			continue
		}
		fi, err := os.Stat(filepath.Join(d.path, c.digest[:2], c.digest[2:]))
		c.ok = err == nil && fi.Mode().IsRegular() && fi.Size() == c.size
	}
}
