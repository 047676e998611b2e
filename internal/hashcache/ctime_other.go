//go:build unix && !linux

package hashcache

import "syscall"

// Other unix systems spell the change time differently; without it, size,
// mtime and inode still catch ordinary edits.
func ctimeNanos(*syscall.Stat_t) int64 { return 0 }
