// Package sdktest finds the Google Cloud SDK for the differential tests
// that compare appcfg with Google's own code (its App Engine parsers, its
// cron grammar, its skip_files walk, its Python's re): one rule for where
// the SDK and its Python are, and one skip message when they are absent.
// Only tests import it.
package sdktest
