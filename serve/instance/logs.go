package instance

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// maxLine bounds one log line; a longer one is cut into several.
const maxLine = 64 << 10

// traceKey is the structured-logging key that ties a line to its request.
const traceKey = "logging.googleapis.com/trace"

// Request is one request an instance is serving, collecting the log lines
// the instance writes meanwhile.
type Request struct {
	trace string
	lines []backend.AppLogLine
}

// logRouter gives each line an instance writes to the request it belongs
// to: the one its trace names, else the oldest in flight.
type logRouter struct {
	mu       sync.Mutex // held while a pipe is read, so End sees every line written before the response
	inflight []*Request
	now      func() time.Time
	orphan   func(backend.AppLogLine)
	partial  map[int][]byte // by stream: a line not yet ended
	recent   []string       // the last lines, for the message of a failed start
	// flushBuf is End's read buffer, used with mu held: allocating one
	// per flush was 64 KiB of garbage per proxied request.
	flushBuf []byte
}

// maxRecent is how many of an instance's last lines a failure quotes.
const maxRecent = 8

// lastLines returns the instance's last lines.
func (r *logRouter) lastLines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.recent...)
}

func newLogRouter(now func() time.Time, orphan func(backend.AppLogLine)) *logRouter {
	return &logRouter{now: now, orphan: orphan, partial: map[int][]byte{}}
}

func (r *logRouter) begin(trace string) *Request {
	req := &Request{trace: trace}
	r.mu.Lock()
	r.inflight = append(r.inflight, req)
	r.mu.Unlock()
	return req
}

func (r *logRouter) end(req *Request) []backend.AppLogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, q := range r.inflight {
		if q == req {
			r.inflight = append(r.inflight[:i], r.inflight[i+1:]...)
			break
		}
	}
	return req.lines
}

// write takes bytes read from a stream; r.mu is held.
func (r *logRouter) write(stream int, p []byte) {
	buf := append(r.partial[stream], p...)
	for {
		i := strings.IndexByte(string(buf), '\n')
		if i < 0 {
			if len(buf) >= maxLine {
				r.line(buf[:maxLine])
				buf = buf[maxLine:]
				continue
			}
			break
		}
		r.line(buf[:i])
		buf = buf[i+1:]
	}
	r.partial[stream] = append([]byte(nil), buf...)
}

// eof ends a stream's last line; r.mu is held.
func (r *logRouter) eof(stream int) {
	if len(r.partial[stream]) > 0 {
		r.line(r.partial[stream])
	}
	delete(r.partial, stream)
}

func (r *logRouter) line(raw []byte) {
	text := strings.TrimRight(string(raw), "\r")
	if strings.TrimSpace(text) == "" {
		return
	}
	if len(r.recent) == maxRecent {
		r.recent = r.recent[1:]
	}
	r.recent = append(r.recent, text)
	l, trace := parseLine(text)
	l.Time = r.now()
	var to *Request
	for _, q := range r.inflight {
		if trace != "" && strings.HasSuffix(trace, "/traces/"+q.trace) {
			to = q
			break
		}
	}
	if to == nil && len(r.inflight) > 0 {
		to = r.inflight[0]
	}
	if to == nil {
		r.orphan(l)
		return
	}
	to.lines = append(to.lines, l)
}

// parseLine reads a line as Cloud Logging does: one JSON object is a
// structured entry (severity, message, trace); anything else is text at
// INFO.
func parseLine(text string) (backend.AppLogLine, string) {
	l := backend.AppLogLine{Level: backend.Info, Message: text}
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "{") {
		return l, ""
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(t), &obj); err != nil {
		return l, ""
	}
	if s, ok := obj["severity"].(string); ok {
		if level, ok := backend.ParseSeverity(s); ok {
			l.Level = level
		}
	}
	if m, ok := obj["message"].(string); ok {
		l.Message = m
	}
	trace, _ := obj[traceKey].(string)
	return l, trace
}
