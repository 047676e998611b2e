package local

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/appcfg/appcfg/backend"
)

// runDir is the directory, inside a store's root, of the versions laid out
// for the local host's instances. It must be inside the store: a hard link
// cannot cross file systems.
const runDir = "run"

var _ backend.Materializer = (*Backend)(nil)

// Materialize implements backend.Materializer: each file of the version is a
// hard link to its blob (no copy), checked against its SHA-1 and size before
// it is linked. The tree lives under run/APP/SERVICE/VERSION/KEY, where KEY
// hashes the manifest, so a redeployed version gets a fresh tree while the
// old one's instances finish. A tree is built under a temporary name and
// renamed into place whole, so a reader never sees half of one.
func (b *Backend) Materialize(ctx context.Context, app, service, version string) (string, error) {
	if err := checkNames(app, service, version); err != nil {
		return "", err
	}
	spec, err := b.Manifest(ctx, app, service, version)
	if err != nil {
		return "", err
	}
	final := filepath.Join(b.root, runDir, app, service, version, manifestKey(spec.Files))
	if fi, err := os.Stat(final); err == nil && fi.IsDir() {
		return final, nil
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("laying out version %s of service %s: %w", version, service, err)
	}
	tmp, err := os.MkdirTemp(parent, tmpPrefix)
	if err != nil {
		return "", fmt.Errorf("laying out version %s of service %s: %w", version, service, err)
	}
	if err := b.linkFiles(ctx, app, spec.Files, tmp); err != nil {
		removeTree(tmp)
		return "", fmt.Errorf("laying out version %s of service %s: %w", version, service, err)
	}
	if err := readOnlyTree(tmp); err != nil {
		removeTree(tmp)
		return "", fmt.Errorf("laying out version %s of service %s: %w", version, service, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		removeTree(tmp)
		if fi, serr := os.Stat(final); serr == nil && fi.IsDir() {
			return final, nil // another process laid it out first
		}
		return "", fmt.Errorf("laying out version %s of service %s: %w", version, service, err)
	}
	return final, nil
}

// linkFiles links every file's blob into dir, after checking its content.
func (b *Backend) linkFiles(ctx context.Context, app string, files []backend.FileRef, dir string) error {
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			return fmt.Errorf("the manifest names %q, which is not a path inside the app", f.Path)
		}
		if err := b.checkBlob(ctx, app, f); err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		blob := b.blobPath(f.SHA1)
		// The blob is shared with the instance: nobody may write it.
		if err := os.Chmod(blob, 0o444); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		if err := os.Link(blob, target); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	return nil
}

// checkBlob reads a blob through its SHA-1 and size.
func (b *Backend) checkBlob(ctx context.Context, app string, f backend.FileRef) error {
	rc, err := b.OpenBlob(ctx, app, f.SHA1)
	if err != nil {
		return fmt.Errorf("%s: %w (run appcfg update for this version again)", f.Path, err)
	}
	defer rc.Close()
	if err := backend.CheckContent(ctx, backend.ReaderForCheck(ctx, rc, f.Size), f.SHA1, f.Size); err != nil {
		return fmt.Errorf("%s: %w (run appcfg verify --repair, then appcfg update for this version)", f.Path, err)
	}
	return nil
}

// manifestKey names a manifest's content: its paths and digests.
func manifestKey(files []backend.FileRef) string {
	sorted := append([]backend.FileRef(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	h := sha1.New()
	for _, f := range sorted {
		fmt.Fprintf(h, "%s\x00%s\n", f.Path, f.SHA1)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// readOnlyTree makes every directory of the tree read-only, deepest first.
func readOnlyTree(root string) error {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			return err
		}
	}
	return nil
}

// removeTree removes a tree readOnlyTree may have locked.
func removeTree(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(root)
}
