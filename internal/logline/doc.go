// Package logline renders request logs as the lines `appcfg request_logs`
// writes: Apache's combined format with App Engine's extras, fields escaped
// as Apache's mod_log_config escapes them.
//
// It is a leaf shared by package logs, which formats downloads, and the
// local backend, which renders each request's default line once, as it
// records it (as App Engine's log service kept a "combined" line per
// request), so a plain download copies lines instead of formatting them.
// Both must produce the same bytes, so both use this code.
package logline
