package main

import (
	"context"
	"errors"
	"strconv"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/skipfiles"
	"github.com/appcfg/appcfg/upload"
)

// selectUploadFiles walks the app directory with its skip rules and checks
// (the same selection ls_files shows), within the host's size limits, and
// returns the upload set and the app directory its paths are in (the
// walk's Root, for File.Abs). cache keeps the secret guard's verdicts; the
// caller saves it.
func selectUploadFiles(ctx context.Context, io stdio, g globals, sel selectionOptions, d *appDir, host backend.Properties, cache *hashcache.Cache) ([]upload.File, string, error) {
	opts, err := uploadWalkOptions(g, sel, d, host, cache)
	if err != nil {
		return nil, "", err
	}
	res, err := skipfiles.Walk(ctx, d.dir, opts, lsReporter{io: io, verbose: g.verbosity >= 2})
	if se := (*skipfiles.Error)(nil); errors.As(err, &se) && se.OnlyLimits() {
		// The host's limits (10,000 files, 32 MB a file): exit status 5.
		return nil, "", backend.Classify(err, backend.ErrLimit)
	}
	if err != nil {
		return nil, "", err
	}
	// The walk's list is the upload set itself (one type, appfile.File):
	// a copy was 5,000 files' worth of fresh memory.
	return res.Files, res.Root, nil
}

// uploadWalkOptions are the walk's options for the upload set of d: the
// selection ls_files shows, within the host's size limits.
func uploadWalkOptions(g globals, sel selectionOptions, d *appDir, host backend.Properties, cache *hashcache.Cache) (skipfiles.Options, error) {
	opts := skipFilesOptions(g, sel, d.app, d.appYAML)
	if cache != nil {
		opts.Cache = func() *hashcache.Cache { return cache }
	}
	// The size limits are the host's; App Engine's per-file limit applies
	// unless the host says otherwise.
	opts.Limits.MaxFileSize = host.MaxBlobSize
	opts.Limits.MaxTotalSize = host.MaxVersionSize
	if host.MaxVersionSize == 0 {
		opts.Limits.MaxTotalSize = -1
	}
	if s := sel.maxSize; s != "" {
		// appcfg.py 1.6's --max_size: a lower per-file limit than the host's.
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return opts, usagef("--max_size %q: give a size in bytes", s)
		}
		if opts.Limits.MaxFileSize <= 0 || n < opts.Limits.MaxFileSize {
			opts.Limits.MaxFileSize = n
		}
	}
	return opts, nil
}
