// Command appcfg validates and deploys App Engine-style applications. It is
// the Go successor of Google's appcfg.py and keeps its command names and
// flags (update, update_indexes, request_logs, upload_data …), so existing
// scripts keep working.
//
// This package only turns the command line into options for the feature
// packages and their results into output and an exit status; the work is
// done in validate, skipfiles, upload, companion, indexes, logs, serve and
// bulkload.
//
// Each command is three pieces (run.go): a plain options struct (xOptions,
// the global flags embedded), the function that fills it from the flags
// (xOptionsFrom, the only code that reads a *cli.Context), and
// runX(ctx, opts, deps), where deps are the streams, the way to open the
// host and the clock. The cli.Command's Action is action(io, parse, run),
// so a test calls runX with options and deps it builds itself
// (run_test.go).
package main
