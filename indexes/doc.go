// Package indexes keeps the composite indexes on a host in step with
// index.yaml: Update adds the definitions the host lacks and reports the
// state of each (building, serving, error), optionally waiting until they
// all serve; Plan and Delete find and remove the indexes the host has but
// index.yaml no longer lists, asking before each deletion through a Confirm
// callback, as appcfg.py's update_indexes and vacuum_indexes did.
//
// Definitions are compared as the App Engine SDK and gcloud compare them,
// through appconfig's (*Index).Key: kind, ancestor flag and the ordered
// properties with their directions, a trailing "__key__ asc" dropped (every
// index ends in ascending key order anyway). So an index.yaml entry that
// spells that trailing key out matches the host index that does not, and
// the same properties in another order are another index.
//
// The package talks to the host only through backend.IndexManager and
// prints nothing: progress goes to a progress.Reporter, questions to the
// caller's Confirm.
package indexes
