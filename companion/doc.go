// Package companion pushes an application's companion configurations to a
// host: index.yaml's indexes and the cron, queue, DoS and dispatch
// documents. `update` pushes them once its version is live (package upload
// calls a Set through its Companions interface) or on their own when only
// companion files are named; update_cron, update_queues, update_dos and
// update_dispatch push one each. Every path turns a model into the stored
// document with Document, so the host holds the same bytes whichever
// command pushed them.
//
// Index definitions are added by package indexes, which a feature package
// must not import: cmd/appcfg hands its Update to the Set as UpdateIndexes.
//
// The package prints nothing: status and warnings go to a
// progress.Reporter, and what was pushed is returned.
package companion
