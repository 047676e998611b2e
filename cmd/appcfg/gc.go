package main

import (
	"os"
	"runtime/debug"
)

// paceGC sets the garbage collector's pace (GOGC percent) and soft memory
// limit (bytes) for one command whose heap is known to be mostly kept or
// short-lived, unless the user set GOGC or GOMEMLIMIT, whose word goes.
// It returns what puts the previous settings back.
func paceGC(percent int, limit int64) (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	oldPercent := debug.SetGCPercent(percent)
	oldLimit := debug.SetMemoryLimit(limit)
	return func() {
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldPercent)
	}
}
