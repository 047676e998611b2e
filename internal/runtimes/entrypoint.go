package runtimes

import "strings"

// NeedsEntrypoint reports whether a standard-environment runtime starts
// nothing when app.yaml gives no entrypoint: App Engine's Ruby runtimes
// have no default command (../shared/docs/runtimes.md §2), while the
// others fall back to a default (gunicorn, npm start, the main package …).
func NeedsEntrypoint(runtime string) bool {
	return strings.HasPrefix(runtime, "ruby")
}

// EntrypointHint says what a Ruby entrypoint must do, for the validate
// warning and serve's error alike.
const EntrypointHint = "it must start a process serving $PORT, e.g. `entrypoint: bundle exec rackup -s Puma -p $PORT`"
