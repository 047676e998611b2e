package backend

import (
	"context"
	"io"
	"time"
)

// LogBlockReader is an optional capability of a LogReader that stores logs
// in blocks: it hands over whole runs of logs at a time, their strings
// dictionary-coded, so a consumer (the request_logs formatter) does its
// per-value work — escaping a user agent, say — once per distinct value in
// a block instead of once per log, and no RequestLog is built per log.
// Consumers use it when the reader has it and fall back to ReadLogs.
type LogBlockReader interface {
	LogReader
	// ReadLogBlocks calls fn with blocks holding exactly the logs ReadLogs
	// would list for q, in the same order: a block's records are in
	// (Time, ID) order, and every record of a block comes before every
	// record of the next. A block and everything it refers to is valid only
	// during the call: fn copies what it keeps. An error from fn stops the
	// listing and is returned.
	ReadLogBlocks(ctx context.Context, q LogQuery, fn func(*LogBlock) error) error
}

// LogField names a string field of a request log in a LogBlock.
type LogField int

// The string fields of a RequestLog, in LogBlock.Dict and
// LogRecord.Str.
const (
	LogIP LogField = iota
	LogMethod
	LogResource
	LogHTTPVersion
	LogReferrer
	LogUserAgent
	LogHost
	NumLogFields
)

// LogBlock is a run of request logs of one service version.
type LogBlock struct {
	App, Service, Version string
	// Dict holds, per string field, the distinct values of that field in
	// the block; records refer to them by index.
	Dict [NumLogFields][]string
	// Records are the logs, in order.
	Records []LogRecord
	// ID returns the ID of Records[i].
	ID func(i int) string
}

// LogRecord is one log of a LogBlock.
type LogRecord struct {
	Time int64 // Unix nanoseconds
	// Str indexes Dict: field f of the log is Dict[f][Str[f]].
	Str     [NumLogFields]uint32
	Status  int32
	Bytes   int64
	Latency time.Duration
	AppLogs []AppLogLine
}

// Log returns record i as a RequestLog (its strings share the block's
// memory: valid as long as the block is).
func (b *LogBlock) Log(i int) RequestLog {
	r := &b.Records[i]
	return RequestLog{
		ID: b.ID(i), Time: time.Unix(0, r.Time),
		IP: b.Dict[LogIP][r.Str[LogIP]], Method: b.Dict[LogMethod][r.Str[LogMethod]],
		Resource: b.Dict[LogResource][r.Str[LogResource]], HTTPVersion: b.Dict[LogHTTPVersion][r.Str[LogHTTPVersion]],
		Status: int(r.Status), Bytes: r.Bytes,
		Referrer: b.Dict[LogReferrer][r.Str[LogReferrer]], UserAgent: b.Dict[LogUserAgent][r.Str[LogUserAgent]],
		Host: b.Dict[LogHost][r.Str[LogHost]], Latency: r.Latency,
		App: b.App, Service: b.Service, Version: b.Version, AppLogs: r.AppLogs,
	}
}

// LineFormat is a rendering of request logs as text, one line per log,
// defined by the consumer (package logs owns request_logs' lines). A store
// that keeps ready lines treats them as opaque bytes keyed by Version: it
// stores what New's appender writes, tagged with Version, and copies them
// back only to a reader asking for the same Version; for any other it
// renders the records with the reader's format. Changing what a format
// writes means changing its Version, and stored lines of the old one are
// then never served.
type LineFormat struct {
	// Version names the rendering. Empty means none: nothing is kept.
	Version string
	// New returns an appender for one goroutine: it appends the line of
	// l, ending in '\n', to b (l is valid only during the call). A store
	// keeping lines hands it each log as ReadLogs will list it (ID, App
	// and Service filled in).
	New func() func(b []byte, l *RequestLog) []byte
}

// LogLineWriter is an optional capability of a LogWriter that keeps, beside
// each log, its line as a LineFormat renders it, so a LogLineReader asked
// for that format copies lines instead of formatting logs (as App Engine's
// log service kept a "combined" line per request).
type LogLineWriter interface {
	LogWriter
	// WriteLogsWithLines is WriteLogs that also keeps each log's line
	// as f renders it.
	WriteLogsWithLines(ctx context.Context, app string, logs []RequestLog, f LineFormat) error
}

// LogLineReader is an optional capability of a LogReader that hands over
// logs as lines of a LineFormat: those it keeps ready (LogLineWriter) when
// they were rendered by the same format version, the others rendered from
// their records with f. A download then copies runs of lines instead of
// formatting each log.
type LogLineReader interface {
	LogReader
	// ReadLogLines calls fn with runs of the lines, as f renders them, of
	// exactly the logs ReadLogs would list for q, in the same order; n is
	// how many lines (one per log) a run holds. fn reads lines to its end
	// during the call; it may be a reader of a file range, which io.Copy
	// to a file copies without passing the bytes through memory. An error
	// from fn stops the listing and is returned.
	ReadLogLines(ctx context.Context, q LogQuery, f LineFormat, fn func(lines io.Reader, n int) error) error
}
