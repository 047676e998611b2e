package upload

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/progress"
	"golang.org/x/sync/errgroup"
)

// File is one file chosen for upload.
type File struct {
	Path     string // slash-separated, relative to the app root
	Abs      string // where to read it (through any symbolic link)
	Size     int64  // as seen when the file set was chosen
	MimeType string // optional
	// Info is the file's metadata from the walk that chose it, if kept:
	// the stat cache then needs no second stat of every file, and hashing
	// and sending refuse a path that no longer leads to that file.
	Info fs.FileInfo
	// Data is the content of a generated file (no Abs): it is hashed and
	// sent from memory.
	Data []byte
}

// hashed is a File with its content digest.
type hashed struct {
	File
	SHA1 string
}

// hashFiles computes the SHA-1 of every file with workers goroutines,
// streaming each file through a fixed buffer, and reusing cached digests for
// files whose size, mtime, ctime and inode are unchanged. The result is in
// the order of files. Only the digests are kept in memory.
func hashFiles(ctx context.Context, files []File, workers int, cache *hashcache.Cache, rep progress.Reporter) ([]hashed, error) {
	var total int64
	for _, f := range files {
		total += f.Size
	}
	rep.Phase("hashing", int64(len(files)), total)
	out := make([]hashed, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i, f := range files {
		if gctx.Err() != nil {
			break
		}
		// A file the stat cache knows needs no read, so no worker: on an
		// unchanged redeploy, starting one per file cost more than the
		// lookups.
		if sum, ok := cachedSum(f, cache); ok {
			out[i] = hashed{File: f, SHA1: sum}
			rep.Add(1, f.Size)
			continue
		}
		g.Go(func() (err error) {
			defer crash.Recover(&err)
			crash.Point("upload.hash")
			sum, size, err := hashOne(gctx, f, cache)
			if err != nil {
				return err
			}
			if size != f.Size {
				// The file changed since it was listed; its limits were
				// checked on the old size, so make the user look again.
				return fmt.Errorf("%s changed while being deployed (%d bytes, now %d); run the deploy again", human.Path(f.Path), f.Size, size)
			}
			out[i] = hashed{File: f, SHA1: sum}
			rep.Add(1, size)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// cachedSum returns the digest the stat cache holds for f, listed with its
// metadata, when that metadata is unchanged.
func cachedSum(f File, cache *hashcache.Cache) (string, bool) {
	if cache == nil || f.Data != nil || f.Info == nil {
		return "", false
	}
	st := hashcache.StatOf(f.Info)
	if st.Size != f.Size {
		return "", false // changed since listed: hashOne reads it and says so
	}
	return cache.Lookup(f.Path, st)
}

func hashOne(ctx context.Context, f File, cache *hashcache.Cache) (string, int64, error) {
	if f.Data != nil {
		sum := sha1.Sum(f.Data)
		return hex.EncodeToString(sum[:]), int64(len(f.Data)), nil
	}
	fi := f.Info
	if fi == nil {
		var err error
		if fi, err = os.Stat(f.Abs); err != nil {
			return "", 0, fmt.Errorf("cannot read %s: %w", human.Path(f.Path), unwrapPath(err))
		}
	}
	st := hashcache.StatOf(fi)
	if cache != nil {
		if sum, ok := cache.Lookup(f.Path, st); ok {
			return sum, st.Size, nil
		}
	}
	// Read the file the walk resolved, not whatever the path leads to now:
	// a link swapped since could lead out of the app.
	sum, size, err := hashcache.HashFile(ctx, f.Abs, f.Info)
	if err != nil {
		return "", 0, fmt.Errorf("cannot read %s: %w", human.Path(f.Path), unwrapPath(err))
	}
	if cache != nil && size == st.Size {
		cache.Store(f.Path, st, sum)
	}
	return sum, size, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
