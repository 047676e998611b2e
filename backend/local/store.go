package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/appcfg/appcfg/internal/privfile"
)

// tmpMaxAge is how old a temporary file in a blob directory must be before
// a store that opens sweeps it. A deploy writes each blob's temporary file
// in one go and renames it within seconds; one untouched for longer than
// any deploy lock's lease (update takes 30 seconds, renewed every 10) many
// times over belongs to a deploy that was killed, or stopped for so long
// that its lock passed on and it will not record the blob anyway.
const tmpMaxAge = 10 * time.Minute

// checkDatabaseFile refuses to open a store whose database file is empty
// or gone while blobs are present: SQLite would silently create a new,
// empty database there, and every blob would become an orphan that no
// version names. A missing database in a store with no blob is a new store.
func checkDatabaseFile(root string) error {
	path := filepath.Join(root, dbName)
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.Size() > 0:
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("opening the local store in %s: %w", root, err)
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		return nil // a database still wholly in its write-ahead log
	}
	blob, err := firstBlob(root)
	if err != nil || blob == "" {
		return err
	}
	state := "is empty (0 bytes)"
	if fi == nil {
		state = "is missing"
	}
	return fmt.Errorf("the local store's database %s %s, but the store holds content (%s): the database was lost or truncated, and opening it would start an empty one that forgets every version; restore %s from a backup, or move %s aside and deploy again into a new store",
		path, state, blob, dbName, root)
}

// firstBlob returns the path of one blob file in the store, or "" when it
// holds none. It stops at the first, so a large store costs no more than a
// small one.
func firstBlob(root string) (string, error) {
	top := filepath.Join(root, blobDir)
	dirs, err := os.ReadDir(top)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the local store in %s: %w", root, err)
	}
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		f, err := os.Open(filepath.Join(top, d.Name()))
		if err != nil {
			return "", fmt.Errorf("reading the local store in %s: %w", root, err)
		}
		for {
			names, err := f.Readdirnames(64)
			for _, n := range names {
				if !strings.HasPrefix(n, tmpPrefix) {
					f.Close()
					return filepath.Join(top, d.Name(), n), nil
				}
			}
			if err != nil {
				break
			}
		}
		f.Close()
	}
	return "", nil
}

// sweptMarker is a file in blobs/ whose modification time says when the
// last sweep ran: reading every blob directory costs tens of milliseconds
// in a large store, too much for every command that opens it, so a store is
// swept at most once per tmpMaxAge. An orphan therefore goes within twice
// that age.
const sweptMarker = ".swept"

// sweepTemp removes the temporary files of blob writes that were killed
// (see tmpMaxAge). It is best effort: a file it cannot remove now is swept
// by a later open.
func (b *Backend) sweepTemp() {
	marker := filepath.Join(b.root, blobDir, sweptMarker)
	now := b.now()
	if fi, err := os.Stat(marker); err == nil && now.Sub(fi.ModTime()) < tmpMaxAge {
		return
	}
	b.forEachTemp(func(path string, fi fs.FileInfo) {
		if now.Sub(fi.ModTime()) > tmpMaxAge {
			os.Remove(path)
		}
	})
	if f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE, privfile.FileMode); err == nil {
		f.Close()
	}
	os.Chtimes(marker, now, now)
}

// forEachTemp calls fn for each temporary file in the blob directories.
func (b *Backend) forEachTemp(fn func(path string, fi fs.FileInfo)) {
	top := filepath.Join(b.root, blobDir)
	dirs, err := os.ReadDir(top)
	if err != nil {
		return
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(top, d.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), tmpPrefix) {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				fn(filepath.Join(dir, e.Name()), fi)
			}
		}
	}
}
