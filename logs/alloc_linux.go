package logs

import (
	"os"
	"syscall"
)

// fallocKeepSize is FALLOC_FL_KEEP_SIZE: allocate without growing the file.
const fallocKeepSize = 0x1

// allocate has the file system allocate n bytes of f from off, keeping
// f's size; best effort (a file system without fallocate just copies).
func allocate(f *os.File, off, n int64) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { //nolint:errcheck // best effort, see above
			syscall.Fallocate(int(fd), fallocKeepSize, off, n) //nolint:errcheck
		})
	}
}
