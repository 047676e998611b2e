package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
)

func downloadAppCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "download_app",
		Usage:     "write the files of a deployed version into a new directory",
		ArgsUsage: "-A APP_ID [-V VERSION] [-M SERVICE] [OUTPUT_DIR]",
		Description: "Writes every file of the version (default: the one receiving the service's traffic) under\n" +
			"OUTPUT_DIR, which must not exist or be empty (default: a new directory named after the\n" +
			"app). Each file is checked against its SHA-1 before it is named; a path that would leave\n" +
			"OUTPUT_DIR is refused. Hosts that cannot give files back say so.",
		Action: action(io, downloadAppOptionsFrom, runDownloadApp),
	}
}

// downloadAppOptions are download_app's options.
type downloadAppOptions struct {
	globals
	out string // the directory to write, the application id by default
}

func downloadAppOptionsFrom(c *cli.Context) (downloadAppOptions, error) {
	g, err := readGlobals(c)
	if err != nil {
		return downloadAppOptions{}, err
	}
	args := c.Args().Slice()
	if g.appID == "" && len(args) == 2 {
		// "download_app APP_ID DIR": the id where -A was meant.
		g.appID, args = projectID(args[0]), args[1:]
		if err := g.checkTarget(); err != nil {
			return downloadAppOptions{}, err
		}
	}
	if g.app() == "" {
		return downloadAppOptions{}, usagef("You must specify an app ID via -A or --application.")
	}
	if len(args) > 1 {
		return downloadAppOptions{}, usagef("\"download_app\" expects one non-option argument, found %d.", len(args))
	}
	out := g.app()
	if len(args) == 1 {
		out = args[0]
	}
	return downloadAppOptions{globals: g, out: out}, nil
}

// runDownloadApp writes the files of the application's serving version
// to opts.out.
func runDownloadApp(ctx context.Context, opts downloadAppOptions, d deps) error {
	return d.onHost(ctx, opts.globals, func(ctx context.Context, b backend.Backend) error {
		return downloadApp(ctx, d.io, opts.globals, b, opts.out)
	})
}

func downloadApp(ctx context.Context, io stdio, g globals, b backend.Backend, out string) error {
	cs, err := backend.As[backend.Contents](b, "giving a version's files back (download_app)")
	if err != nil {
		return err
	}
	vs, err := backend.As[backend.Versions](b, "versions")
	if err != nil {
		return err
	}
	service := firstNonEmpty(g.module, "default")
	version := g.version
	if version == "" {
		if version, err = servingVersion(ctx, vs, g.app(), service); err != nil {
			return err
		}
	}
	spec, err := cs.Manifest(ctx, g.app(), service, version)
	if err != nil {
		return err
	}
	if err := emptyOutputDir(out); err != nil {
		return err
	}
	g.statusf(io, "Fetching files of version %s of service %s of app %s.", version, service, g.app())
	for i, f := range spec.Files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			return fmt.Errorf("the host lists %q, a path outside %s; nothing more was written", f.Path, out)
		}
		g.statusf(io, "[%d/%d] %s", i+1, len(spec.Files), f.Path)
		if err := fetchFile(ctx, cs, g.app(), f, filepath.Join(out, filepath.FromSlash(f.Path))); err != nil {
			return err
		}
	}
	var bytes int64
	for _, f := range spec.Files {
		bytes += f.Size
	}
	res := map[string]any{"app": g.app(), "service": service, "version": version, "dir": out, "files": len(spec.Files), "bytes": bytes}
	return emit(io, g, res, func() {
		fmt.Fprintf(io.out, "Wrote %d files of version %s of app %s to %s.\n", len(spec.Files), version, g.app(), out)
	})
}

// servingVersion is the version that receives most of the service's traffic.
func servingVersion(ctx context.Context, vs backend.Versions, app, service string) (string, error) {
	list, err := vs.ListVersions(ctx, app, service)
	if err != nil {
		return "", fmt.Errorf("listing versions of %s: %w", app, err)
	}
	best, share := "", 0.0
	for _, v := range list {
		if v.Traffic > share {
			best, share = v.ID, v.Traffic
		}
	}
	if best == "" {
		return "", fmt.Errorf("service %s of app %s has no version receiving traffic: name one with -V (list them with list_versions)", service, app)
	}
	return best, nil
}

// emptyOutputDir makes sure out is absent or an empty directory.
func emptyOutputDir(out string) error {
	st, err := os.Stat(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("Cannot download to path %q: there's a file in the way.", out)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("Cannot download to path %q: directory already exists and it isn't empty.", out)
	}
	return nil
}

// fetchFile writes one file: to a temporary file beside it, checked against
// its SHA-1 and size, then renamed, so a file that is named is complete.
func fetchFile(ctx context.Context, cs backend.Contents, app string, f backend.FileRef, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := cs.OpenBlob(ctx, app, f.SHA1)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	defer r.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	check := backend.NewContentCheck(f.SHA1, f.Size)
	_, err = io.Copy(io.MultiWriter(tmp, check), backend.ReaderForCheck(ctx, r, f.Size))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = check.Err()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return os.Rename(tmp.Name(), dst)
}
