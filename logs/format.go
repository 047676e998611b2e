package logs

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

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

// formatter turns logs into lines. It caches the timestamp of the current
// second: consecutive logs mostly share it, and time zone conversion is the
// costliest part of a line.
type formatter struct {
	f       Format
	lastSec int64
	stamp   []byte
}

func newFormatter(f Format) *formatter {
	if f.Location == nil {
		f.Location = time.UTC
	}
	return &formatter{f: f, lastSec: -1 << 62}
}

// timestamp returns "[02/Jan/2006:15:04:05 -0700]" for t.
func (fm *formatter) timestamp(t time.Time) []byte {
	if sec := t.Unix(); sec != fm.lastSec {
		fm.lastSec = sec
		fm.stamp = t.In(fm.f.Location).AppendFormat(fm.stamp[:0], "[02/Jan/2006:15:04:05 -0700]")
	}
	return fm.stamp
}

// timestampNanos is timestamp for a time in Unix nanoseconds.
func (fm *formatter) timestampNanos(ns int64) []byte {
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec-- // floor, as time.Time.Unix
	}
	if sec != fm.lastSec {
		return fm.timestamp(time.Unix(sec, 0))
	}
	return fm.stamp
}

// appendLog appends the request line of l and its app log lines, each line
// ending in '\n', and returns how many lines it wrote.
func (fm *formatter) appendLog(b []byte, l *backend.RequestLog) ([]byte, int) {
	b = appendField(b, l.IP)
	b = append(b, " - - "...)
	b = append(b, fm.timestamp(l.Time)...)
	b = append(b, ` "`...)
	b = appendEscaped(b, l.Method)
	b = append(b, ' ')
	b = appendEscaped(b, l.Resource)
	b = append(b, ' ')
	b = appendEscaped(b, l.HTTPVersion)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(l.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, l.Bytes, 10)
	b = appendQuoted(b, l.Referrer)
	b = appendQuoted(b, l.UserAgent)
	if fm.f.IncludeVHost || fm.f.IncludeAll {
		b = appendQuoted(b, l.Host)
	}
	b = append(b, " ms="...)
	b = strconv.AppendInt(b, l.Latency.Milliseconds(), 10)
	if fm.f.IncludeAll {
		b = append(b, " app="...)
		b = appendField(b, l.App)
		b = append(b, " module="...)
		b = appendField(b, l.Service)
		b = append(b, " version="...)
		b = appendField(b, l.Version)
		b = append(b, " request_id="...)
		b = appendField(b, l.ID)
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

// appendField appends s, or "-" when it is empty, with anything that would
// split the field escaped.
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	if plainPrefix(s, true) == len(s) {
		return append(b, s...)
	}
	return appendEscaped(b, strings.ReplaceAll(s, " ", `\x20`))
}

// appendQuoted appends ` "s"`, "-" standing for an empty value, as Apache
// does.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, ` "`...)
	if s == "" {
		b = append(b, '-')
	} else {
		b = appendEscaped(b, s)
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// plain marks the bytes appendEscaped copies as they are: printable ASCII
// other than '"' and '\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainPrefix returns the length of the run of plain bytes s starts with
// (and without spaces if noSpace), testing eight bytes at a time.
func plainPrefix(s string, noSpace bool) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		bad := x&highs | (x-0x20*ones)&^x&highs | hasZero(x^0x7f*ones) | hasZero(x^'"'*ones) | hasZero(x^'\\'*ones)
		if noSpace {
			bad |= hasZero(x ^ ' '*ones)
		}
		if bad != 0 {
			break
		}
	}
	for i < len(s) && plain[s[i]] && (!noSpace || s[i] != ' ') {
		i++
	}
	return i
}

// appendEscaped appends s escaped as Apache's mod_log_config does: '"' and
// '\' get a backslash, control bytes and invalid UTF-8 become \xhh, so one
// record is always one line with balanced quotes.
func appendEscaped(b []byte, s string) []byte {
	// Most fields need no escape: copy the plain run in one go.
	i := plainPrefix(s, false)
	b = append(b, s[:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
	}
	return b
}
