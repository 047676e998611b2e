// Package runtimes holds the App Engine standard runtimes' lifecycle: the
// dated table appcfg ships (docs/runtimes.md is its prose twin) and the
// one rule a deploy applies to it. Past its deprecation date a runtime can
// no longer be deployed to Google at all, so a deploy refuses it before any
// byte is sent, naming the dates and the successor; past its end of
// support but not deprecated, Google may still take it (an organisation
// policy can re-enable deploys), so a deploy only warns.
//
// When appcfg talks to Google the host's own dates (apps.listRuntimes)
// replace the table's; the table is the offline fallback. It is a leaf:
// it imports nothing of appcfg.
package runtimes
