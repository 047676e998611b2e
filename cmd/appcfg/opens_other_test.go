//go:build !linux

package main

import "github.com/rogpeppe/go-internal/testscript"

// cmdWatchOpens needs inotify. The scripts that use it start with
// "[!linux] skip", so reaching it elsewhere is a script without that guard.
func cmdWatchOpens(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("watchopens needs Linux (inotify): start the script with [!linux] skip")
}
