package upload

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appfile"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/progress"
)

// File is one file chosen for upload: the type of package skipfiles'
// walk, which chooses the set (a leaf both share, so the walk's list is
// the deploy's, not copied into another of 5,000 files).
type File = appfile.File

// hashed is a File with its content digest: one of a deploy's distinct
// contents. It points to the File in the deploy's list rather than copying
// it (at 120 bytes a copy, copies were a tenth of an unchanged redeploy's
// page faults).
type hashed struct {
	*File
	SHA1 string
	// Stored says the host stored the content while it was hashed
	// (backend.BlobIngester): it is not sent again.
	Stored bool
}

// hashedSet is what hashFiles found of a deploy's files: each file as the
// version lists it (refs[i] is files[i] with its digest), and which
// contents the host stored while they were hashed. The version's spec
// shares refs: an unchanged redeploy builds no other list of its files
// (a list per step, 5,000 files long, was 40 to 70 fresh pages each).
type hashedSet struct {
	files  []File
	refs   []backend.FileRef
	stored []bool // nil when the host stored none
}

// at returns file i with its digest.
func (h *hashedSet) at(i int) hashed {
	return hashed{File: &h.files[i], SHA1: h.refs[i].SHA1, Stored: h.stored != nil && h.stored[i]}
}

// hashFiles computes the SHA-1 of every file with workers goroutines,
// streaming each file through a fixed buffer, and reusing cached digests for
// files whose size, mtime, ctime and inode are unchanged. With ing, a file
// the cache does not know is hashed by the host as it stores it, so it is
// read once. The result is in the order of files. Only the digests are kept
// in memory. root is the app directory the files are in (File.Abs).
func hashFiles(ctx context.Context, root string, files []File, workers int, cache *hashcache.Cache, ing *ingester, rep progress.Reporter) (*hashedSet, error) {
	var total int64
	for _, f := range files {
		total += f.Size()
	}
	phase := "hashing"
	if ing != nil {
		phase = "storing" // hashing and storing, in one read
	}
	rep.Phase(phase, int64(len(files)), total)
	out := &hashedSet{files: files, refs: make([]backend.FileRef, len(files))}
	if ing != nil {
		out.stored = make([]bool, len(files))
	}
	p := newStorePool(ctx, ing.syncer(), max(workers, 1))
	for i := range files {
		f := &files[i]
		out.refs[i] = backend.FileRef{Path: f.Path, Size: f.Size()}
		// A file the stat cache knows needs no read, so no worker: on an
		// unchanged redeploy, starting one per file cost more than the
		// lookups.
		if sum, ok := cachedSum(f, cache); ok {
			out.refs[i].SHA1 = sum
			rep.Add(1, f.Size())
			continue
		}
		var weight int64
		if ing != nil {
			weight = f.Size() + blobOverhead
		}
		err := p.Go(weight, func(ctx context.Context) error {
			crash.Point("upload.hash")
			sum, size, stored, err := hashOne(ctx, root, f, cache, ing)
			if err != nil {
				return err
			}
			if size != f.Size() {
				// The file changed since it was listed; its limits were
				// checked on the old size, so make the user look again.
				return fmt.Errorf("%s changed while being deployed (%d bytes, now %d); run the deploy again", human.Path(f.Path), f.Size(), size)
			}
			out.refs[i].SHA1 = sum
			if stored {
				out.stored[i] = true
			}
			rep.Add(1, size)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := p.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// cachedSum returns the digest the stat cache holds for f, listed with its
// metadata, when that metadata is unchanged.
func cachedSum(f *File, cache *hashcache.Cache) (string, bool) {
	if cache == nil || f.Data() != nil || f.Info == nil {
		return "", false
	}
	return cache.Lookup(f.Path, hashcache.StatOf(f.Info))
}

// hashOne returns f's digest and size, and whether ing stored it; f is in
// the app directory root.
func hashOne(ctx context.Context, root string, f *File, cache *hashcache.Cache, ing *ingester) (sum string, size int64, stored bool, err error) {
	if data := f.Data(); data != nil {
		sum := sha1.Sum(data)
		return hex.EncodeToString(sum[:]), int64(len(data)), false, nil
	}
	fi := f.Info
	if fi == nil {
		if fi, err = os.Stat(f.Abs(root)); err != nil {
			return "", 0, false, fmt.Errorf("cannot read %s: %w", human.Path(f.Path), unwrapPath(err))
		}
	}
	st := hashcache.StatOf(fi)
	if cache != nil {
		if sum, ok := cache.Lookup(f.Path, st); ok {
			return sum, st.Size, false, nil
		}
	}
	if ing != nil {
		sum, err = ing.store(ctx, root, f)
		size, stored = st.Size, true
	} else {
		// Read the file the walk resolved, not whatever the path leads to
		// now: a link swapped since could lead out of the app.
		sum, size, err = hashcache.HashFile(ctx, f.Abs(root), f.Info)
		if err != nil {
			err = fmt.Errorf("cannot read %s: %w", human.Path(f.Path), unwrapPath(err))
		}
	}
	if err != nil {
		return "", 0, false, err
	}
	if cache != nil && size == st.Size {
		cache.Store(f.Path, st, sum)
	}
	return sum, size, stored, nil
}

// ingester is a host that stores a deploy's files as they are hashed
// (backend.BlobIngester), on a first deploy of the app to it.
type ingester struct {
	bi   backend.BlobIngester
	sync backend.BlobSyncer
	app  string
}

// ingesterFor returns the host as an ingester when it is one, the deploy
// changes the host (no dry run) and the host says it is worth it for the
// app; else nil.
func ingesterFor(ctx context.Context, b backend.Backend, d backend.Deployer, opts Options) (*ingester, error) {
	bi, ok := d.(backend.BlobIngester)
	sync := blobSyncer(b, d) // nil: the host confirms each store itself
	if opts.DryRun || !ok {
		return nil, nil
	}
	yes, err := bi.IngestsFor(ctx, opts.App)
	if err != nil || !yes {
		return nil, err
	}
	return &ingester{bi: bi, sync: sync, app: opts.App}, nil
}

// syncer is the host's BlobSyncer; nil for a nil ingester.
func (in *ingester) syncer() backend.BlobSyncer {
	if in == nil {
		return nil
	}
	return in.sync
}

// store has the host store f (in the app directory root), read once, and
// returns its digest.
func (in *ingester) store(ctx context.Context, root string, f *File) (string, error) {
	r, err := hashcache.OpenListed(f.Abs(root), f.Info)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", human.Path(f.Path), unwrapPath(err))
	}
	defer r.Close()
	sum, err := in.bi.IngestBlob(ctx, in.app, f.Size(), r)
	if errors.Is(err, backend.ErrDigestMismatch) {
		return "", fmt.Errorf("%s changed while being deployed; run the deploy again: %w", human.Path(f.Path), err)
	}
	if err != nil {
		return "", fmt.Errorf("uploading %s: %w", human.Path(f.Path), err)
	}
	return sum, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
