//go:build !linux

package main

import "github.com/rogpeppe/go-internal/testscript"

// cmdWatchOpens needs inotify; elsewhere the scripts using it are skipped.
func cmdWatchOpens(ts *testscript.TestScript, neg bool, args []string) {
	ts.Skip("watchopens needs Linux (inotify)")
}
