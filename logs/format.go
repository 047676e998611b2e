package logs

import (
	"strconv"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// Format chooses what a request line holds beyond the combined format.
type Format struct {
	// Location is the zone times are printed in (US/Pacific for the
	// legacy tool).
	Location *time.Location
	// IncludeVHost adds the quoted host after the user agent.
	IncludeVHost bool
	// IncludeAll adds everything the host knows: the host, and the app,
	// service, version and request id after the latency.
	IncludeAll bool
	// Severity is the lowest app log level printed under a request; -1
	// prints none.
	Severity backend.Severity
}

// formatter turns logs into lines. It is the one renderer of a request
// line: logs handed over one by one (appendLog), in blocks (blockFormatter)
// and the lines a store keeps ready (StoredLines) all go through appendLine.
type formatter struct {
	f     Format
	st    *stamper
	extra []byte // appendLog's scratch for the IncludeAll extras
}

func newFormatter(f Format) *formatter {
	if f.Location == nil {
		f.Location = time.UTC
	}
	return &formatter{f: f, st: newStamper(f.Location)}
}

// showsHost reports whether lines hold the host.
func (f Format) showsHost() bool { return f.IncludeVHost || f.IncludeAll }

// defaultFormat is what request_logs prints without --include_vhost,
// --include_all or --severity.
func defaultFormat() Format { return Format{Location: Pacific(), Severity: -1} }

// plainLines reports whether the lines asked for are the default ones
// (StoredLines), which a store may keep ready.
func (f Format) plainLines() bool {
	d := defaultFormat()
	return f.Location != nil && f.Location.String() == d.Location.String() &&
		f.IncludeVHost == d.IncludeVHost && f.IncludeAll == d.IncludeAll && f.Severity < 0
}

// lineFields are the string fields of a request line (indexed by
// backend.LogField) as the line shows them: see fieldText.
type lineFields [backend.NumLogFields]string

// fieldText returns value v of field f as a line shows it: escaped as
// Apache's mod_log_config escapes, so a record is always one line with
// balanced quotes; "-" for an empty IP, referrer, user agent or host, as
// Apache writes; an IP's spaces escaped too, so the first field never splits.
func fieldText(f backend.LogField, v string) string {
	ip := f == backend.LogIP
	switch {
	case v == "" && f != backend.LogMethod && f != backend.LogResource && f != backend.LogHTTPVersion:
		return "-"
	case plainPrefix(v, ip) == len(v):
		return v // most values need no escape
	case ip:
		return string(appendField(nil, v))
	default:
		return string(appendEscaped(nil, v))
	}
}

// appendExtras appends what IncludeAll adds after the latency, up to the
// request id's value: " app=… module=… version=… request_id=".
func appendExtras(b []byte, app, service, version string) []byte {
	b = append(appendField(append(b, " app="...), app), " module="...)
	b = append(appendField(b, service), " version="...)
	return append(appendField(b, version), " request_id="...)
}

// appendLine appends a request line, ending in '\n': combined format, the
// quoted host with IncludeVHost or IncludeAll, " ms=" and the latency, and
// with IncludeAll extras (appendExtras) and the request id. t holds the
// fields' texts, stamp the time's.
func (fm *formatter) appendLine(b []byte, t *lineFields, stamp []byte, status int32, size int64, latency time.Duration, extras []byte, id string) []byte {
	b = append(b, t[backend.LogIP]...)
	b = append(b, " - - "...)
	b = append(b, stamp...)
	b = append(b, ` "`...)
	b = append(b, t[backend.LogMethod]...)
	b = append(b, ' ')
	b = append(b, t[backend.LogResource]...)
	b = append(b, ' ')
	b = append(b, t[backend.LogHTTPVersion]...)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, size, 10)
	b = append(b, ` "`...)
	b = append(b, t[backend.LogReferrer]...)
	b = append(b, `" "`...)
	b = append(b, t[backend.LogUserAgent]...)
	b = append(b, '"')
	if fm.f.showsHost() {
		b = append(b, ` "`...)
		b = append(b, t[backend.LogHost]...)
		b = append(b, '"')
	}
	b = append(b, " ms="...)
	b = strconv.AppendInt(b, latency.Milliseconds(), 10)
	if fm.f.IncludeAll {
		b = append(b, extras...)
		b = appendField(b, id)
	}
	return append(b, '\n')
}

// appendLog appends the request line of l and its app log lines, each line
// ending in '\n', and returns how many lines it wrote.
func (fm *formatter) appendLog(b []byte, l *backend.RequestLog) ([]byte, int) {
	t := lineFields{
		backend.LogIP:          fieldText(backend.LogIP, l.IP),
		backend.LogMethod:      fieldText(backend.LogMethod, l.Method),
		backend.LogResource:    fieldText(backend.LogResource, l.Resource),
		backend.LogHTTPVersion: fieldText(backend.LogHTTPVersion, l.HTTPVersion),
		backend.LogReferrer:    fieldText(backend.LogReferrer, l.Referrer),
		backend.LogUserAgent:   fieldText(backend.LogUserAgent, l.UserAgent),
	}
	if fm.f.showsHost() {
		t[backend.LogHost] = fieldText(backend.LogHost, l.Host)
	}
	if fm.f.IncludeAll {
		fm.extra = appendExtras(fm.extra[:0], l.App, l.Service, l.Version)
	}
	b = fm.appendLine(b, &t, fm.st.at(l.Time), int32(l.Status), l.Bytes, l.Latency, fm.extra, l.ID)
	return fm.appendAppLogs(b, l.AppLogs)
}

// appendAppLogs appends the app log lines at or above the severity asked
// for, and returns how many lines the request wrote with its own.
func (fm *formatter) appendAppLogs(b []byte, appLogs []backend.AppLogLine) ([]byte, int) {
	lines := 1
	if fm.f.Severity < 0 {
		return b, lines
	}
	for _, a := range appLogs {
		if a.Level < fm.f.Severity {
			continue
		}
		// As the legacy server wrote them: level:seconds.micros message.
		// A message's own line breaks start new TAB-indented lines, so
		// every line that is not a request starts with a TAB.
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(a.Level), 10)
		b = append(b, ':')
		us := a.Time.UnixMicro()
		b = strconv.AppendInt(b, us/1e6, 10)
		b = append(b, '.')
		b = appendPadded(b, us%1e6, 6)
		b = append(b, ' ')
		for i, part := range strings.Split(strings.ReplaceAll(a.Message, "\r\n", "\n"), "\n") {
			if i > 0 {
				b = append(b, "\n\t"...)
				lines++
			}
			b = appendEscaped(b, part)
		}
		b = append(b, '\n')
		lines++
	}
	return b, lines
}

func appendPadded(b []byte, v int64, width int) []byte {
	s := strconv.AppendInt(nil, v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
