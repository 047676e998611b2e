//go:build unix

package hashcache

import (
	"math"
	"os"
	"runtime"
	"syscall"
)

// readFile returns the cache file's bytes mapped, not copied: a read of the
// file copied it into fresh heap pages (160 page faults for the 640 KB of
// a 5,000-file app, 11 µs each on a VM with shadow paging), where a
// mapping of the OS's cached pages costs a fault per 16 pages. mapped
// says the bytes are the mapping: only code under Cache.guard reads them,
// since a file truncated behind the process makes a read past its new end
// fault. The mapping is released when owner is collected.
func readFile(path string, owner *Cache) (data []byte, mapped bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	size := fi.Size()
	if size == 0 || size > math.MaxInt32 || !fi.Mode().IsRegular() {
		return nil, false, nil // nothing to index (loadLines refuses these)
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		// A file system that cannot map: read it.
		data, err = os.ReadFile(path)
		return data, false, err
	}
	runtime.AddCleanup(owner, func(m []byte) { syscall.Munmap(m) }, data) //nolint:errcheck // nothing to do
	return data, true, nil
}
