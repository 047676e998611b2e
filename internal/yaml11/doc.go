// Package yaml11 reads App Engine configuration files the way the App Engine
// SDK's YAML layer reads them, so that a file means the same thing to appcfg as
// to Google's own parser.
//
// The SDK parses with a YAML 1.1 resolver: yes/no/on/off/y/n are booleans,
// 012 is octal, 1:30 is sexagesimal, and a string field receives Python's
// str() of whatever the scalar resolved to (so `version: 1.10` is "1.1").
// yaml.v3 resolves with YAML 1.2 rules, so this package re-resolves plain
// scalars itself and renders values as Python would.
//
// Unlike the SDK, which stops at its first error, the decoder here keeps going
// and reports every problem of a file with its line and column.
package yaml11
