package backend

import (
	"context"
	"time"
)

// AppLogLine is one line an application logged while serving a request.
type AppLogLine struct {
	Time    time.Time `json:"time"`
	Level   Severity  `json:"level"`
	Message string    `json:"message"`
}

// Severity is an application log level, ordered as the legacy tool's
// --severity numbers: 0 debug … 4 critical.
type Severity int

// Severities.
const (
	Debug Severity = iota
	Info
	Warning
	Error
	Critical
)

// RequestLog is one served request.
type RequestLog struct {
	// ID orders logs with the same Time and is unique per app; hosts
	// assign it.
	ID          string        `json:"id"`
	Time        time.Time     `json:"time"` // when the request started
	IP          string        `json:"ip"`
	Method      string        `json:"method"`
	Resource    string        `json:"resource"` // path and query
	HTTPVersion string        `json:"http_version"`
	Status      int           `json:"status"`
	Bytes       int64         `json:"bytes"` // response body size
	Referrer    string        `json:"referrer,omitempty"`
	UserAgent   string        `json:"user_agent,omitempty"`
	Host        string        `json:"host"`
	Latency     time.Duration `json:"latency"`
	App         string        `json:"app"`
	Service     string        `json:"service"`
	Version     string        `json:"version"`
	AppLogs     []AppLogLine  `json:"app_logs,omitempty"`
}

// LogQuery selects request logs.
type LogQuery struct {
	App     string
	Service string // "" for every service
	Version string // "" for every version
	// Start and End bound Time: Start <= Time < End. A zero End means now.
	Start, End time.Time
	// After resumes a listing: only logs ordered after the one with this
	// (Time, ID) are returned. Zero to start at Start.
	AfterTime time.Time
	AfterID   string
}

// LogReader is the capability to read request logs.
type LogReader interface {
	// ReadLogs calls fn for each log the query selects, in chronological
	// order (Time, then ID), reading page by page so memory stays constant.
	// An error from fn stops the listing and is returned.
	ReadLogs(ctx context.Context, q LogQuery, fn func(RequestLog) error) error
}

// LogWriter is the capability to record request logs, for hosts that serve
// versions themselves.
type LogWriter interface {
	// WriteLogs records logs of app in one transaction, assigning IDs.
	WriteLogs(ctx context.Context, app string, logs []RequestLog) error
}

// LogSpooler is an optional capability of a LogWriter that takes logs with
// one append to a file instead of a write to its tables: a server that
// must have each request on record before it answers (serve) spools the
// log, answers, and folds the spool into the tables off the request path.
type LogSpooler interface {
	LogWriter
	// OpenLogSpool folds the spools other processes left (a server killed
	// before it folded its own) and opens a spool of this process for
	// app's logs, kept with lines as f renders them (as WriteLogsWithLines
	// does; an empty f keeps none). Close it to fold what it holds.
	OpenLogSpool(ctx context.Context, app string, f LineFormat) (LogSpool, error)
}

// LogSpool is one process's spool of request logs.
type LogSpool interface {
	// Append puts logs on record with one write to the spool, not synced:
	// once it returns they survive the process being killed, and every
	// reader of the host lists them (a reader folds the spools first). It
	// fails, spooling nothing the caller must retry, when the spool is full
	// (its folds are failing) or the write failed; the caller then writes
	// the logs with WriteLogs. Safe for concurrent use.
	Append(logs []RequestLog) error
	// Fold writes what the spool holds into the host's log tables, each
	// log exactly once however many processes fold, and returns how many
	// logs this call wrote. One Fold runs at a time.
	Fold(ctx context.Context) (int, error)
	// Close folds what is left and removes the spool; it returns how many
	// logs that last fold wrote.
	Close(ctx context.Context) (int, error)
}
