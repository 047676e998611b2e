//go:build linux && !floorlocal

package main

import "github.com/urfave/cli/v2"

// storeCommands: none without -tags floorlocal, so f2 and f3 link no
// package of appcfg's.
func storeCommands() []*cli.Command { return nil }
