// Command appcfg validates and deploys App Engine-style applications. It is
// the Go successor of Google's appcfg.py and keeps its command names and
// flags (update, update_indexes, request_logs, upload_data …), so existing
// scripts keep working.
//
// This package only turns the command line into options for the feature
// packages and their results into output and an exit status; the work is
// done in validate, skipfiles, upload, indexes, logs and bulkload.
package main
