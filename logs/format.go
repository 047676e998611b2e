package logs

import (
	"strconv"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/logline"
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

// formatter turns logs into lines.
type formatter struct {
	f  Format
	st *logline.Stamper
}

func newFormatter(f Format) *formatter {
	if f.Location == nil {
		f.Location = time.UTC
	}
	return &formatter{f: f, st: logline.NewStamper(f.Location)}
}

// timestamp returns "[02/Jan/2006:15:04:05 -0700]" for t.
func (fm *formatter) timestamp(t time.Time) []byte { return fm.st.Time(t) }

// timestampNanos is timestamp for a time in Unix nanoseconds.
func (fm *formatter) timestampNanos(ns int64) []byte { return fm.st.Nanos(ns) }

// plainLines reports whether the lines asked for are logline's default
// lines (logline.AppendCombined), which a store may keep ready.
func (f Format) plainLines() bool {
	return f.Location != nil && f.Location.String() == logline.PacificName &&
		!f.IncludeVHost && !f.IncludeAll && f.Severity < 0
}

// appendLog appends the request line of l and its app log lines, each line
// ending in '\n', and returns how many lines it wrote.
func (fm *formatter) appendLog(b []byte, l *backend.RequestLog) ([]byte, int) {
	b = logline.AppendField(b, l.IP)
	b = append(b, " - - "...)
	b = append(b, fm.timestamp(l.Time)...)
	b = append(b, ` "`...)
	b = logline.AppendEscaped(b, l.Method)
	b = append(b, ' ')
	b = logline.AppendEscaped(b, l.Resource)
	b = append(b, ' ')
	b = logline.AppendEscaped(b, l.HTTPVersion)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(l.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, l.Bytes, 10)
	b = logline.AppendQuoted(b, l.Referrer)
	b = logline.AppendQuoted(b, l.UserAgent)
	if fm.f.IncludeVHost || fm.f.IncludeAll {
		b = logline.AppendQuoted(b, l.Host)
	}
	b = append(b, " ms="...)
	b = strconv.AppendInt(b, l.Latency.Milliseconds(), 10)
	if fm.f.IncludeAll {
		b = append(b, " app="...)
		b = logline.AppendField(b, l.App)
		b = append(b, " module="...)
		b = logline.AppendField(b, l.Service)
		b = append(b, " version="...)
		b = logline.AppendField(b, l.Version)
		b = append(b, " request_id="...)
		b = logline.AppendField(b, l.ID)
	}
	b = append(b, '\n')
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
			b = logline.AppendEscaped(b, part)
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
