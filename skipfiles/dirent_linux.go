//go:build linux

package skipfiles

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"slices"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dirHandle is an open directory: listed with getdents64, which gives each
// entry's type without a stat, and its entries stat'ed with fstatat relative
// to it, so the kernel resolves one name instead of the whole path.
type dirHandle struct {
	fd   int
	path string
	// slab holds the FileInfos of the stats to come, allocated at once.
	slab []statInfo
}

// reserve makes room for the FileInfos of n stats in one allocation.
func (h *dirHandle) reserve(n int) { h.slab = make([]statInfo, 0, n) }

func openDir(abs string) (*dirHandle, error) {
	for {
		fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: abs, Err: err}
		}
		return &dirHandle{fd: fd, path: abs}, nil
	}
}

func (h *dirHandle) close() { unix.Close(h.fd) }

// The layout of struct linux_dirent64, as x/sys/unix declares it.
const (
	direntIno    = unsafe.Offsetof(unix.Dirent{}.Ino)
	direntReclen = unsafe.Offsetof(unix.Dirent{}.Reclen)
	direntType   = unsafe.Offsetof(unix.Dirent{}.Type)
	direntName   = unsafe.Offsetof(unix.Dirent{}.Name)
)

// read lists the directory (without "." and ".."), sorted by name; rel is
// its path from the root, buf the scratch space for getdents64.
func (h *dirHandle) read(buf []byte, rel string, forceUnknown bool) ([]listed, error) {
	var out []listed
	for {
		n, err := unix.Getdents(h.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readdirent", Path: h.path, Err: err}
		}
		if n <= 0 {
			break
		}
		// Counted first, so the listing grows once per getdents call and
		// its paths take one allocation (names are at most reclen long).
		count, names := 0, 0
		for b := buf[:n]; len(b) >= int(direntName); count++ {
			reclen := int(binary.NativeEndian.Uint16(b[direntReclen:]))
			if reclen < int(direntName) || reclen > len(b) {
				return nil, &fs.PathError{Op: "readdirent", Path: h.path, Err: syscall.EIO}
			}
			names += reclen - int(direntName)
			b = b[reclen:]
		}
		out = slices.Grow(out, count)
		paths := newPathArena(count*(len(rel)+1) + names)
		for b := buf[:n]; len(b) >= int(direntName); {
			rec := b[:binary.NativeEndian.Uint16(b[direntReclen:])]
			b = b[len(rec):]
			if binary.NativeEndian.Uint64(rec[direntIno:]) == 0 {
				continue // a deleted entry, as os.ReadDir skips it
			}
			name := rec[direntName:]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if string(name) == "." || string(name) == ".." {
				continue
			}
			// Copied into paths at once: buf is read into again.
			e := paths.listed(rel, unsafe.String(unsafe.SliceData(name), len(name)))
			e.typ, e.unknown = direntMode(rec[direntType])
			if forceUnknown {
				e.typ, e.unknown = 0, true
			}
			out = append(out, e)
		}
	}
	sortListed(out)
	return out, nil
}

// direntMode turns a d_type into the type bits of fs.FileMode.
func direntMode(t byte) (typ fs.FileMode, unknown bool) {
	switch t {
	case unix.DT_REG:
		return 0, false
	case unix.DT_DIR:
		return fs.ModeDir, false
	case unix.DT_LNK:
		return fs.ModeSymlink, false
	case unix.DT_FIFO:
		return fs.ModeNamedPipe, false
	case unix.DT_SOCK:
		return fs.ModeSocket, false
	case unix.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice, false
	case unix.DT_BLK:
		return fs.ModeDevice, false
	}
	return 0, true // DT_UNKNOWN, or a type this code does not know
}

// unix.Stat_t and syscall.Stat_t both declare the kernel's struct stat;
// lstat fills the second through the first, so that the FileInfo it returns
// carries the *syscall.Stat_t every other reader (hashcache) expects. This
// line stops the build should the two ever differ in size.
var _ = [1]struct{}{}[unsafe.Sizeof(unix.Stat_t{})-unsafe.Sizeof(syscall.Stat_t{})]

// lstat stats the entry name of the directory, not following a symbolic link.
func (h *dirHandle) lstat(name string) (fs.FileInfo, error) {
	var fi *statInfo
	if len(h.slab) < cap(h.slab) {
		h.slab = h.slab[:len(h.slab)+1]
		fi = &h.slab[len(h.slab)-1]
		fi.name = name
	} else {
		fi = &statInfo{name: name}
	}
	for {
		err := unix.Fstatat(h.fd, name, (*unix.Stat_t)(unsafe.Pointer(&fi.sys)), unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "lstat", Path: h.path + "/" + name, Err: err}
		}
		return fi, nil
	}
}

// statInfo is the fs.FileInfo of an fstatat, read as os.Lstat reads its
// result (os offers no way to build its own from a Stat_t).
type statInfo struct {
	name string
	sys  syscall.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.sys.Size }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.sys.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.sys }

func (s *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.sys.Mode & 0o777)
	switch s.sys.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if s.sys.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.sys.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.sys.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
