package logs

import (
	"encoding/binary"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the US/Pacific zone on machines without zoneinfo
	"unicode/utf8"
	"unsafe"
)

// pacificName is the zone request_logs prints times in, as the legacy tool.
const pacificName = "America/Los_Angeles"

var pacific = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation(pacificName)
	if err != nil {
		// Unreachable: time/tzdata embeds the zone.
		panic("logs: the US/Pacific zone is missing: " + err.Error())
	}
	return loc
})

// Pacific returns US/Pacific, the zone of the legacy tool's days and times.
func Pacific() *time.Location { return pacific() }

// stamper formats "[02/Jan/2006:15:04:05 -0700]" in one zone. It caches the
// current second: consecutive logs mostly share it, and converting to the
// zone is the costliest part of a line.
type stamper struct {
	loc     *time.Location
	lastSec int64
	stamp   []byte
}

func newStamper(loc *time.Location) *stamper {
	return &stamper{loc: loc, lastSec: -1 << 62}
}

// at returns the stamp of t.
func (s *stamper) at(t time.Time) []byte {
	if sec := t.Unix(); sec != s.lastSec {
		s.lastSec = sec
		s.stamp = t.In(s.loc).AppendFormat(s.stamp[:0], "[02/Jan/2006:15:04:05 -0700]")
	}
	return s.stamp
}

// nanos returns the stamp of a time in Unix nanoseconds.
func (s *stamper) nanos(ns int64) []byte {
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec-- // floor, as time.Time.Unix
	}
	if sec != s.lastSec {
		return s.at(time.Unix(sec, 0))
	}
	return s.stamp
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
