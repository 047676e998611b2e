package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// FileMode and DirMode are the modes of private files and directories. A
// umask only removes permission bits, so these are never widened by one.
const (
	FileMode fs.FileMode = 0o600
	DirMode  fs.FileMode = 0o700
)

// MkdirAll creates dir and any missing parents with DirMode. Directories
// that exist keep their mode: they may be the user's own.
func MkdirAll(dir string) error {
	return os.MkdirAll(dir, DirMode)
}

// SQLite prepares the database file path before SQLite opens it. SQLite
// creates a database with mode 0644 and its -wal, -shm and -journal files
// with the database's mode, so the file is created empty with FileMode
// when missing, and an existing one (from an older appcfg, or a copy) and
// its companions lose the bits of group and others.
func SQLite(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("creating %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("creating %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := restrict(p); err != nil {
			return err
		}
	}
	return nil
}

// restrict takes group and others' bits off an existing file. A file of
// another user, which only they can chmod, is left as it is: it is theirs
// to protect, and refusing to open it would not protect it.
func restrict(p string) error {
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking the mode of %s: %w", p, err)
	}
	if st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil && !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("making %s private: %w", p, err)
	}
	return nil
}
