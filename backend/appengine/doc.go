// Package appengine is the backend for Google App Engine itself, location
// appengine://PROJECT.
//
// It speaks Google's current REST APIs with plain net/http (no generated
// client libraries, which would triple the binary): the App Engine Admin API
// v1 for versions, traffic and dispatch rules; the Cloud Storage JSON API for
// staging files in the application's code bucket, named by SHA-1 as gcloud
// names them; the Datastore Admin API v1 for composite indexes; and Cloud
// Logging v2 for request logs. A version's app.yaml is converted to the
// Admin API's Version resource by the same renaming table gcloud uses
// (convert.go), so a deploy by appcfg and one by gcloud create the same
// version.
//
// Authentication is the caller's: backend.Env.HTTPClient must authorise
// requests (internal/auth builds it from the command line). Every API base
// URL can be overridden (Endpoints, or the APPCFG_*_API environment
// variables) so tests and private deployments can point it elsewhere; plain
// http is refused except to a loopback host.
package appengine
