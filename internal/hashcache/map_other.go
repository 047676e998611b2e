//go:build !unix

package hashcache

import "os"

// readFile reads the cache file (see map_unix.go for the mapping).
func readFile(path string, _ *Cache) (data []byte, mapped bool, err error) {
	data, err = os.ReadFile(path)
	return data, false, err
}
