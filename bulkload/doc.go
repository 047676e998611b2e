// Package bulkload is appcfg's bulk loader: upload_data and download_data.
//
// It reads records through a connector (csv, simplexml; simpletext for
// export), converts them to entities with a bulkloader.yaml transformer
// (config.go) whose transform expressions are resolved against a fixed
// catalogue of the SDK's named transforms (catalogue.go) — Python is never
// run — and stores them through the backend's Entities capability in
// batches, with worker goroutines and rate limits. Without a config it
// dumps and restores whole entities as JSON Lines (jsonl.go).
//
// Uploads are resumable: a SQLite progress database records each batch of
// consecutive record numbers and its state, under a signature of the run's
// options. A rerun skips the batches already sent, resends the others, and
// refuses a database written with other options. Records without a key get
// ids the backend allocates, recorded before they are sent, so a batch sent
// twice is stored once. Downloads resume from a result database that
// records the key ranges written to a partial output.
package bulkload
