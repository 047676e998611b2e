package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

func versionCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:   "version",
		Usage:  "print appcfg's own version: the module version and the commit it was built from",
		Action: action(io, func(*cli.Context) (struct{}, error) { return struct{}{}, nil }, runVersion),
	}
}

func runVersion(_ context.Context, _ struct{}, d deps) error {
	_, err := fmt.Fprintln(d.io.out, versionLine())
	return err
}

func versionLine() string {
	bi, _ := debug.ReadBuildInfo()
	return formatVersion(bi)
}

// formatVersion is the version line of a build: the module version (a tag
// for `go install …@v1.2.3`, a pseudo-version or "(devel)" for a build in a
// checkout), then the commit the go command stamped from the VCS, marked
// "+dirty" when the tree had local changes, and the Go release:
//
//	appcfg v1.2.3 (commit 0123456789ab, go1.26.8)
//	appcfg (devel) (commit 0123456789ab+dirty, go1.26.8)
//
// A module installed from the proxy carries no VCS stamp: its version
// names the commit.
func formatVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return "appcfg (devel)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	var extra []string
	if rev != "" {
		extra = append(extra, "commit "+rev[:min(len(rev), 12)]+dirty)
	}
	if bi.GoVersion != "" {
		extra = append(extra, bi.GoVersion)
	}
	if len(extra) == 0 {
		return "appcfg " + v
	}
	return "appcfg " + v + " (" + strings.Join(extra, ", ") + ")"
}
