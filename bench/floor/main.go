//go:build linux

// Command floor is the start-up floor of bench/request_logs.sh: a program
// that links what appcfg's design card fixes (urfave/cli/v2, yaml.v3,
// doublestar/v4, x/oauth2, progressbar/v3) and runs one urfave/cli
// command, so its start is the least any build of appcfg pays before a
// command's work. Built with -tags floorstore it also links what every
// appcfg command links for the local store and the App Engine backend
// (modernc.org/sqlite, net/http), as the binary does whatever the command.
//
//	floor version              prints "v": start-up alone
//	floor copy SRC DST         writes SRC's bytes to DST as request_logs
//	                           writes stored lines, at the least it costs
//
// Built with -tags floorstore,floorlocal it also has
//
//	floor download STORE APP VERSION DST
//
// which is request_logs' own download (the local store opened, the chunks
// listed, the lines copied, by appcfg's backend/local and logs packages)
// without appcfg's CLI and the packages only it links: set beside `floor
// copy` and `appcfg request_logs`, it tells the store's share of a
// download from the start-up's.
//
// copy is the best case of a request_logs download of kept lines: no
// store is opened and nothing is listed, the output is a new temporary
// file beside DST (renamed onto it once complete, as request_logs does:
// nothing half-written), its blocks allocated at once (fallocate, which
// request_logs does per run of lines) and filled by the kernel
// (copy_file_range, as request_logs and cat do). So cat's time over this
// program's is the best ratio to cat that any binary linking these
// libraries can reach under a plain `go build`: appcfg's request_logs
// does all of this and more.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/bmatcuk/doublestar/v4"
	_ "github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	_ "golang.org/x/oauth2"
	"golang.org/x/sys/unix"
	_ "gopkg.in/yaml.v3"
)

func main() {
	app := &cli.App{Name: "floor", Commands: append([]*cli.Command{
		{Name: "version", Action: func(*cli.Context) error {
			_, err := fmt.Println("v")
			return err
		}},
		{Name: "copy", ArgsUsage: "SRC DST", Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return errors.New("usage: floor copy SRC DST")
			}
			return copyFile(c.Args().Get(0), c.Args().Get(1))
		}},
	}, storeCommands()...)}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// copyFile writes src's bytes to a new temporary file beside dst, then
// renames it onto dst.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	inFd, outFd := int(in.Fd()), int(out.Fd())
	// Best effort, as request_logs' allocation: a file system without
	// fallocate just copies.
	unix.Fallocate(outFd, unix.FALLOC_FL_KEEP_SIZE, 0, st.Size()) //nolint:errcheck
	for left := st.Size(); left > 0; {
		n, err := unix.CopyFileRange(inFd, nil, outFd, nil, int(left), 0)
		if err != nil {
			return fmt.Errorf("copy_file_range: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("%s shrank while copied", src)
		}
		left -= int64(n)
	}
	if err := out.Chmod(0o644); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(out.Name(), dst)
}
