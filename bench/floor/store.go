//go:build linux && floorstore

package main

// What every appcfg command links beside the design card's libraries: the
// local store's SQLite and the HTTP client of the remote backends. Their
// package initialisation runs at every start, whatever the command.
import (
	_ "net/http"

	_ "modernc.org/sqlite"
)
