// Package serve is the local host's web server: it serves the deployed
// versions of one application from a backend's manifests and blobs, as App
// Engine's front end would, and records every request as a request log.
//
// Requests are routed to a service version by host name
// (VERSION-dot-SERVICE.…, SERVICE.…) or else by the service's traffic split,
// then matched against the version's app.yaml handlers in order. Static
// handlers are served (upload regexes, MIME types, expiration, http_headers);
// login: and secure: are enforced with a local sign-in page and cookie, as
// the dev server does; error_handlers replace the host's own error pages.
// Script handlers, and with second-generation runtimes every URL no static
// handler takes, go to an instance of the version (package instance).
// RunCron runs the deployed cron.yaml's jobs as App Engine's cron service
// does, each run a request through the server, recorded as any other.
//
// Logs are written by one goroutine, by group commit, and each handler
// waits for its own log before its response completes, so even a killed
// server has every answered request on record; Close drains what a failing
// store left pending. Absolute URLs (secure: redirects) use the address
// serve was started with, not the client's Host header, and forwarding
// headers count only with Config.TrustProxy.
package serve
