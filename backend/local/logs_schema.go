package local

// schemaLogs holds request logs. Logs are stored in chunks of up to
// maxChunkLogs records of one service version, sorted by (time, seq) and
// spanning at most maxChunkSpan: reading a million logs then costs a
// thousand rows, not a million (a row costs microseconds in SQLite, a
// record in a chunk tens of nanoseconds). log_seq hands out the per-app
// sequence numbers that are the logs' IDs. A chunk's data is its
// dictionaries of distinct string values then its records (see the chunk
// encoding in logs.go).
//
// The indexes serve chronological paging: a reader walks the chunks of a
// version (or of the whole app) by (min_time, id) from the first chunk that
// may hold its start, and merges the few that overlap in time.
const schemaLogs = `
CREATE TABLE log_seq (
	app_id INTEGER PRIMARY KEY REFERENCES apps(id),
	next   INTEGER NOT NULL
);
CREATE TABLE log_chunks (
	id        INTEGER PRIMARY KEY,
	app_id    INTEGER NOT NULL REFERENCES apps(id),
	service   TEXT    NOT NULL,
	version   TEXT    NOT NULL,
	min_time  INTEGER NOT NULL,
	max_time  INTEGER NOT NULL,
	first_seq INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	data      BLOB    NOT NULL
);
CREATE INDEX log_chunks_by_version ON log_chunks (app_id, service, version, min_time, id);
CREATE INDEX log_chunks_by_app ON log_chunks (app_id, min_time, id);
`
