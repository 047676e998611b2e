// Package datastore is a backend that stores entities in Google Cloud
// Datastore (or Firestore in Datastore mode, or the Datastore emulator)
// through the Datastore API v1 REST, so that `appcfg upload_data` and
// `download_data` load and export a real project.
//
// # What it supports
//
// Only the [backend.Entities] capability. The deploy methods of
// [backend.Backend] return an error wrapping [backend.ErrUnsupported]:
// Datastore holds entities, not application files.
//
// # Locations
//
//	datastore://PROJECT                         https://datastore.googleapis.com
//	datastore://PROJECT?endpoint=127.0.0.1:8081 the emulator (plain http, loopback only)
//	datastore://PROJECT?database=ID            a named database
//	datastore://?endpoint=...                  the project comes from each call's app
//
// # Calls and safety
//
// PutEntities allocates ids for incomplete keys first (:allocateIds) and
// then upserts in NON_TRANSACTIONAL commits of at most 500 mutations and
// about 9 MiB. Because every commit names complete keys, a commit whose reply
// was lost can be sent again without storing an entity twice; every call is
// therefore retried on network errors, 429 and 5xx with exponential backoff
// and full jitter, a bounded number of times (see [Retry]).
//
// QueryEntities runs a kind query ordered by __key__ and follows the server's
// batches only while it answers NOT_FINISHED (google-apis.md §5.5); Kinds
// reads the __kind__ metadata query.
//
// Values are encoded as the API's JSON (int64 as strings, blobs base64, NaN
// and infinities as strings, timestamps RFC 3339 to the microsecond).
package datastore
