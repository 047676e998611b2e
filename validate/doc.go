// Package validate checks App Engine configuration files as the App Engine
// SDK checks them (appinfo, croninfo, queueinfo, dispatchinfo, dosinfo and
// datastore_index), and returns every problem of a file with its
// file:line:col rather than stopping at the first.
//
// It is the entry point for every command that reads configuration: it
// returns the parsed, defaulted model (package appconfig) along with the
// problems, so update, update_indexes and the backends work from the same
// reading of a file that validate reported on.
package validate
