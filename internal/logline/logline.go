package logline

import (
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the US/Pacific zone on machines without zoneinfo
	"unicode/utf8"
	"unsafe"

	"github.com/appcfg/appcfg/backend"
)

// PacificName is the zone request_logs prints times in, as the legacy tool.
const PacificName = "America/Los_Angeles"

var pacific = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation(PacificName)
	if err != nil {
		// Unreachable: time/tzdata embeds the zone.
		panic("logline: the US/Pacific zone is missing: " + err.Error())
	}
	return loc
})

// Pacific returns US/Pacific.
func Pacific() *time.Location { return pacific() }

// Stamper formats "[02/Jan/2006:15:04:05 -0700]" in one zone. It caches the
// current second: consecutive logs mostly share it, and converting to the
// zone is the costliest part of a line.
type Stamper struct {
	loc     *time.Location
	lastSec int64
	stamp   []byte
}

// NewStamper returns a Stamper for loc (UTC when nil).
func NewStamper(loc *time.Location) *Stamper {
	if loc == nil {
		loc = time.UTC
	}
	return &Stamper{loc: loc, lastSec: -1 << 62}
}

// Time returns the stamp of t.
func (s *Stamper) Time(t time.Time) []byte {
	if sec := t.Unix(); sec != s.lastSec {
		s.lastSec = sec
		s.stamp = t.In(s.loc).AppendFormat(s.stamp[:0], "[02/Jan/2006:15:04:05 -0700]")
	}
	return s.stamp
}

// Nanos returns the stamp of a time in Unix nanoseconds.
func (s *Stamper) Nanos(ns int64) []byte {
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec-- // floor, as time.Time.Unix
	}
	if sec != s.lastSec {
		return s.Time(time.Unix(sec, 0))
	}
	return s.stamp
}

// AppendCombined appends the default request line of l, ending in '\n':
// combined format, then " ms=" and the latency, without the host, the
// extras of --include_all or app log lines. Package logs writes the same
// bytes for these options.
func AppendCombined(b []byte, st *Stamper, l *backend.RequestLog) []byte {
	b = AppendField(b, l.IP)
	b = append(b, " - - "...)
	b = append(b, st.Time(l.Time)...)
	b = append(b, ` "`...)
	b = AppendEscaped(b, l.Method)
	b = append(b, ' ')
	b = AppendEscaped(b, l.Resource)
	b = append(b, ' ')
	b = AppendEscaped(b, l.HTTPVersion)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(l.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, l.Bytes, 10)
	b = AppendQuoted(b, l.Referrer)
	b = AppendQuoted(b, l.UserAgent)
	b = append(b, " ms="...)
	b = strconv.AppendInt(b, l.Latency.Milliseconds(), 10)
	return append(b, '\n')
}

// AppendField appends s, or "-" when it is empty, with anything that would
// split the field escaped.
func AppendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	if PlainPrefix(s, true) == len(s) {
		return append(b, s...)
	}
	return AppendEscaped(b, strings.ReplaceAll(s, " ", `\x20`))
}

// AppendQuoted appends ` "s"`, "-" standing for an empty value, as Apache
// does.
func AppendQuoted(b []byte, s string) []byte {
	b = append(b, ` "`...)
	if s == "" {
		b = append(b, '-')
	} else {
		b = AppendEscaped(b, s)
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// plain marks the bytes AppendEscaped copies as they are: printable ASCII
// other than '"' and '\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// PlainPrefix returns the length of the run of plain bytes s starts with
// (and without spaces if noSpace), testing eight bytes at a time.
func PlainPrefix(s string, noSpace bool) int {
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

// AppendEscaped appends s escaped as Apache's mod_log_config does: '"' and
// '\' get a backslash, control bytes and invalid UTF-8 become \xhh, so one
// record is always one line with balanced quotes.
func AppendEscaped(b []byte, s string) []byte {
	// Most fields need no escape: copy the plain run in one go.
	i := PlainPrefix(s, false)
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
