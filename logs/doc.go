// Package logs downloads request logs as the legacy `appcfg request_logs`
// did: Apache combined lines plus App Engine's extras, oldest first, read
// from a backend.LogReader page by page so memory stays flat whatever the
// number of records.
//
// The day window (--num_days, --end_date) is cut at midnight US/Pacific and
// times are printed in Pacific time, as the legacy tool and server did.
// --append resumes after the newest request line already in the file: the
// lines of that second are counted and skipped, so a file grown by repeated
// --append downloads equals one full download.
package logs
