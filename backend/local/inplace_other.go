//go:build !unix

package local

import (
	"os"
	"path/filepath"
)

// inPlaceIn sets ok[i] when dir/names[i] is a regular file of sizes[i]
// bytes.
func inPlaceIn(dir string, names []string, sizes []int64, ok []bool) {
	for i, name := range names {
		fi, err := os.Stat(filepath.Join(dir, name))
		ok[i] = err == nil && fi.Mode().IsRegular() && fi.Size() == sizes[i]
	}
}
