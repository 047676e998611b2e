// Package appconfig is the typed model of an App Engine application's
// configuration: app.yaml (and service yaml files) with includes and builtins
// merged, and the companion files index.yaml, cron.yaml, queue.yaml,
// dispatch.yaml and dos.yaml.
//
// It decodes files with the SDK's YAML 1.1 meaning (internal/yaml11), records
// where every field came from, merges includes and fills defaults. Checking
// values against the SDK's rules is the validate package's job; later
// commands (upload, indexes, backends) read the model validate returns.
package appconfig
