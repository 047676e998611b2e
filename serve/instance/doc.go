// Package instance runs the local host's instances: the processes that
// answer a deployed version's dynamic requests, as App Engine's
// second-generation runtimes run them.
//
// A Manager starts an instance on its version's first request (or at once,
// for serve --warm) in the version's files laid out read-only by the store
// (backend.Materializer), with App Engine's environment built from scratch:
// PORT, GAE_* and GOOGLE_CLOUD_PROJECT, env_variables, and only the few
// variables a process needs to find its tools (PATH, HOME …): nothing of
// appcfg's own settings or credentials reaches the app. What a runtime
// needs first is prepared once per version and kept in a cache: a Go
// version's binary, a venv for requirements.txt, node_modules for
// package.json, vendor/ for composer.json, gems for a Gemfile, each keyed
// by the hash of the files it comes from. A php version runs its front
// controller as the router script of PHP's built-in server.
//
// An instance that exits on its own is started again on the next request,
// after a backoff that grows with each crash in a row; after maxCrashes it
// stays down until its backoff cap passes, and requests hear why. The
// caller stops instances of stopped or redeployed versions (Stop), idle ones
// (StopIdle) and all of them at the end (Close), each with SIGTERM and a
// grace period before SIGKILL.
//
// Each line the process writes to stdout or stderr becomes an app log line
// of the request it was written for (Begin/End): a JSON object's severity
// and message as Cloud Logging reads them, a plain line at INFO. A line
// written while no request is in flight goes to Config.Orphan.
package instance
