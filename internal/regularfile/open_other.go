//go:build !unix

package regularfile

import "os"

// openNonBlocking is os.Open where named pipes do not block an open.
func openNonBlocking(path string) (*os.File, error) {
	return os.Open(path)
}
