package human

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
)

// Size is n bytes in IEC units: "512 B", "5.2 KiB", "52 MiB". Every size a
// person reads (bars, summaries, listings) is written by it, so the same
// amount never appears as "5327 bytes" in one place and "5.2 KiB" in another.
func Size(n int64) string {
	if n < 0 {
		return "-" + humanize.IBytes(uint64(-n))
	}
	return humanize.IBytes(uint64(n))
}

// Path is a file name as it may be written to a terminal: unchanged when
// every character prints as itself, else quoted with Go's escapes
// ("a\x1b]0;x\a", "two\nlines"). A name in an app directory is chosen by
// whoever wrote the app; printed raw, an escape sequence in it could
// rewrite the screen (retitle the window, hide lines, fake a prompt) and a
// newline could forge a line of output. Names that begin with a double
// quote are quoted too, so a quoted name is never ambiguous.
func Path(name string) string {
	if !needsQuote(name) {
		return name
	}
	return strconv.Quote(name)
}

func needsQuote(s string) bool {
	if strings.HasPrefix(s, `"`) {
		return true
	}
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			i++ // printable ASCII, most of any path: no rune to decode
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return true // not UTF-8: the terminal would guess
		}
		if unicode.IsControl(r) || isBidiControl(r) {
			return true
		}
		i += n
	}
	return false
}

// isBidiControl reports the format characters that reorder the text
// around them, so a name could be shown as a different name.
func isBidiControl(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
