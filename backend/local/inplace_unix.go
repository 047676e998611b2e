//go:build unix

package local

import (
	"crypto/sha1"

	"golang.org/x/sys/unix"

	"github.com/appcfg/appcfg/internal/diskfile"
)

// blobsDir is the store's blobs directory, opened once for a check of its
// files: each is stat'ed relative to it by its "ab/cdef…" name, with no
// allocation. An unchanged redeploy checks thousands of blobs: a stat by
// full path walks the whole path each time, and opening each of the 256
// blobs/ab directories (an open and a close each) cost more than the one
// more path component a stat looks up.
type blobsDir struct{ fd int }

// openBlobsDir opens the blobs directory at path.
func openBlobsDir(path string) (blobsDir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	return blobsDir{fd}, err
}

func (d blobsDir) close() { unix.Close(d.fd) } //nolint:errcheck // read only

// inPlace sets each check's ok when d holds its blob's file as a regular
// file of its size. It may run on several goroutines at once.
func (d blobsDir) inPlace(checks []blobCheck) {
	var st unix.Stat_t
	var name [2*sha1.Size + 2]byte // "ab/" + the rest of a digest + NUL
	for i := range checks {
		c := &checks[i]
		if !isDigest(c.digest) {
			c.ok = false // it names no blob file
			continue
		}
		n := copy(name[:], c.digest[:2])
		name[n] = '/'
		n += 1 + copy(name[n+1:], c.digest[2:])
		name[n] = 0
		err := diskfile.StatAtNul(d.fd, &name[0], &st, 0)
		c.ok = err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == c.size
	}
}
