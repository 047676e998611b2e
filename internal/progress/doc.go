// Package progress is how long-running work tells the command layer how far
// it has got, without printing anything itself: feature packages take a
// Reporter (nil means nobody is listening) and cmd/appcfg decides whether that
// becomes a progress bar, plain status lines, JSON or nothing.
package progress
