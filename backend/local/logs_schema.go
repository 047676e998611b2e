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

// schemaLogLines locates each chunk's default request lines (see
// backend.LogLineReader): the lines of its records in order, as the
// writer's backend.LineFormat rendered them, kept in the lines file lines_file
// (in logDir) at lines_off, lines_len bytes long. A plain download copies
// them from file to file without reading them. They are a rendering of the
// chunk's records, not a second truth: chunks written before have none
// (NULL), and a missing or short file is formatted from the records.
// log_lines names each app's lines file being appended to; a file that
// went missing is replaced by one of another name, so chunks never find
// new bytes at their old offsets.
//
// The table is rebuilt rather than altered so that data stays its last
// column: a listing reads chunk descriptions without their data, and a
// column after a large blob is reached only by walking the blob's overflow
// pages (11,000 page reads in a million-log listing).
const schemaLogLines = `
CREATE TABLE log_chunks_v2 (
	id         INTEGER PRIMARY KEY,
	app_id     INTEGER NOT NULL REFERENCES apps(id),
	service    TEXT    NOT NULL,
	version    TEXT    NOT NULL,
	min_time   INTEGER NOT NULL,
	max_time   INTEGER NOT NULL,
	first_seq  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	lines_file TEXT,
	lines_off  INTEGER,
	lines_len  INTEGER,
	data       BLOB    NOT NULL
);
INSERT INTO log_chunks_v2 (id, app_id, service, version, min_time, max_time, first_seq, count, data)
	SELECT id, app_id, service, version, min_time, max_time, first_seq, count, data FROM log_chunks;
DROP TABLE log_chunks;
ALTER TABLE log_chunks_v2 RENAME TO log_chunks;
CREATE INDEX log_chunks_by_version ON log_chunks (app_id, service, version, min_time, id);
CREATE INDEX log_chunks_by_app ON log_chunks (app_id, min_time, id);
CREATE TABLE log_lines (
	app_id INTEGER PRIMARY KEY REFERENCES apps(id),
	file   TEXT NOT NULL
);
`

// schemaLineFormats tags each chunk's lines with the version of the
// backend.LineFormat that rendered them (lines_format): the lines are the
// consumer's rendering, opaque here, and are copied only to a reader asking
// for that version. Lines kept before are untagged (NULL), so they are never
// copied: their records are rendered with the reader's format instead. As
// in schemaLogLines, the table is rebuilt so that data stays last.
const schemaLineFormats = `
CREATE TABLE log_chunks_v3 (
	id           INTEGER PRIMARY KEY,
	app_id       INTEGER NOT NULL REFERENCES apps(id),
	service      TEXT    NOT NULL,
	version      TEXT    NOT NULL,
	min_time     INTEGER NOT NULL,
	max_time     INTEGER NOT NULL,
	first_seq    INTEGER NOT NULL,
	count        INTEGER NOT NULL,
	lines_file   TEXT,
	lines_off    INTEGER,
	lines_len    INTEGER,
	lines_format TEXT,
	data         BLOB    NOT NULL
);
INSERT INTO log_chunks_v3 (id, app_id, service, version, min_time, max_time, first_seq, count, lines_file, lines_off, lines_len, data)
	SELECT id, app_id, service, version, min_time, max_time, first_seq, count, lines_file, lines_off, lines_len, data FROM log_chunks;
DROP TABLE log_chunks;
ALTER TABLE log_chunks_v3 RENAME TO log_chunks;
CREATE INDEX log_chunks_by_version ON log_chunks (app_id, service, version, min_time, id);
CREATE INDEX log_chunks_by_app ON log_chunks (app_id, min_time, id);
`

// schemaLogChunkListing makes the two indexes a listing walks cover every
// column it reads of a chunk but its data. A chunk's row is mostly its data,
// whose first 4 KiB sit in the row's own page, so each description read
// from the table cost a page of its own: a million-log download read a
// thousand pages (and SQLite's cache allocated one for each) before it
// copied a byte. From the covering index it reads a few dozen.
const schemaLogChunkListing = `
DROP INDEX log_chunks_by_version;
DROP INDEX log_chunks_by_app;
CREATE INDEX log_chunks_by_version ON log_chunks (app_id, service, version, min_time, id,
	max_time, first_seq, count, lines_file, lines_off, lines_len, lines_format);
CREATE INDEX log_chunks_by_app ON log_chunks (app_id, min_time, id,
	service, version, max_time, first_seq, count, lines_file, lines_off, lines_len, lines_format);
`

// schemaLogSpools records how far each request-log spool (logspool.go)
// has been folded into log_chunks, in the transaction that folds it, so a
// spooled log is written exactly once whichever process folds it.
const schemaLogSpools = `
CREATE TABLE log_spools (
	name TEXT    PRIMARY KEY,
	pos  INTEGER NOT NULL
) WITHOUT ROWID;
`
