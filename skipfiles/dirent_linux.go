//go:build linux

package skipfiles

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/appcfg/appcfg/internal/diskfile"
)

// dirHandle is an open directory: listed with getdents64, which gives each
// entry's type without a stat, and its entries stat'ed with fstatat relative
// to it, so the kernel resolves one name instead of the whole path.
type dirHandle struct {
	fd   int
	path string
}

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

// read lists the directory (without "." and ".."), sorted by name; dir is
// its path from the root, for the entries' (pathArena.listed), buf is the
// scratch space for getdents64.
func (h *dirHandle) read(buf []byte, dir string, forceUnknown bool) ([]listed, error) {
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
		paths := newPathArena(count*(len(dir)+1) + names)
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
			e := paths.listed(dir, unsafe.String(unsafe.SliceData(name), len(name)))
			e.mode, e.unknown = direntMode(rec[direntType])
			if forceUnknown {
				e.mode, e.unknown = 0, true
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

// lstat stats the entry e of the directory, not following a symbolic link,
// into e itself (e.st and e.mode; e is then its own fs.FileInfo, see
// entryInfo): no FileInfo of its own a file, so the walk keeps 72 bytes a
// listed entry instead of 56 and 56 more a file stat'ed (issue 19: all of
// it fresh memory, and a fresh page costs as much as six stats on a VM).
// The kernel reads e's name where the listing's arena holds it, ended by a
// NUL (pathArena.listed), where unix.Fstatat would copy it into a fresh C
// string: one allocation a file. The FileInfo returned is always nil here:
// other systems return one of their own (dirent_other.go).
func (h *dirHandle) lstat(e *listed) (fs.FileInfo, error) {
	// The kernel writes its struct stat (144 bytes) on the stack; e keeps
	// the 44 bytes of it anything reads.
	var st unix.Stat_t
	if err := diskfile.StatAtNul(h.fd, e.cname(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: h.path + "/" + e.name(), Err: err}
	}
	e.st = entryStat{size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), dev: st.Dev, ino: st.Ino}
	e.mode, e.stated = modeOf(st.Mode), true
	return nil, nil
}

// modeOf turns a st_mode into an fs.FileMode, as os.Lstat does.
func modeOf(mode uint32) fs.FileMode {
	m := fs.FileMode(mode & 0o777)
	switch mode & syscall.S_IFMT {
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
	if mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
