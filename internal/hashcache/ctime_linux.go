//go:build linux

package hashcache

import "syscall"

// The conversions are for 32-bit ports, whose Timespec fields are int32.
func ctimeNanos(st *syscall.Stat_t) int64 { return int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec) }
