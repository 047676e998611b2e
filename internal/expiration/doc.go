// Package expiration reads app.yaml's expiration and default_expiration
// values ("1d 6h") as the SDK's appinfo.ParseExpiration does. It is the one
// reader of that format: validate warns with it, serve caches with it and
// the App Engine backend converts with it.
package expiration
