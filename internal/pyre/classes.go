package pyre

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyUnicode is the one statement of Python 3's Unicode \d, \w and \s (str
// patterns; the same Unicode version, 15.0, as Go's tables): \d is Nd, \w
// a letter, a number or "_", \s a Z character or one of the C0/C1
// separators str.isspace takes. The set is given twice, for two uses:
// inside, the inside of a class in a syntax RE2 and .NET both read; tables
// and extra (ranges, pairs lo, hi), the same set for writing out its
// complement, which neither engine can write inside a class.
func pyUnicode(c byte) (inside string, tables []*unicode.RangeTable, extra []rune) {
	switch c {
	case 'd':
		return `\p{Nd}`, []*unicode.RangeTable{unicode.Nd}, nil
	case 'w':
		return `\p{L}\p{N}_`, []*unicode.RangeTable{unicode.L, unicode.N}, []rune{'_', '_'}
	case 's':
		return `\t-\r\x1c-\x20\x85\p{Z}`, []*unicode.RangeTable{unicode.Z}, []rune{'\t', '\r', 0x1c, 0x1f, 0x85, 0x85}
	}
	return "", nil, nil
}

// IsWord reports whether r is a word character of Python 3's Unicode \w
// (str patterns, no ASCII flag), as pyUnicode states it: for a caller that
// tests characters one by one, which compiling a class that holds \w
// (hundreds of microseconds, its tables being large) would cost more than
// the whole test.
func IsWord(r rune) bool {
	_, tables, extra := pyUnicode('w')
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i] <= r && r <= extra[i+1] {
			return true
		}
	}
	return unicode.IsOneOf(tables, r)
}

// pyUnicodeClass writes Python's Unicode \d, \D, \w, \W, \s or \S (c) for
// RE2 or .NET, out of or in a class; ranges writes a set of ranges as the
// inside of a class in the engine's syntax. "" for any other escape.
func pyUnicodeClass(c byte, inClass bool, ranges func([]rune) string) string {
	lower := c | 0x20
	inside, _, _ := pyUnicode(lower)
	switch {
	case inside == "" || strings.IndexByte("dDwWsS", c) < 0:
		return ""
	case c == lower && inClass:
		return inside
	case inClass:
		return ranges(pyClass(lower, true))
	case strings.HasPrefix(inside, `\p{`) && strings.IndexByte(inside, '}') == len(inside)-1:
		// One Unicode property needs no class around it: \p{Nd}, \P{Nd}.
		if c != lower {
			return `\P` + inside[2:]
		}
		return inside
	case c == lower:
		return "[" + inside + "]"
	}
	return "[^" + inside + "]"
}

// pyASCII is the one statement of Python's \d, \w and \s under the ASCII
// flag, as ranges (pairs lo, hi): [\t\n\v\f\r ] is ASCII whitespace, \v
// included.
func pyASCII(c byte) []rune {
	switch c {
	case 'd':
		return []rune{'0', '9'}
	case 'w':
		return []rune{'0', '9', 'A', 'Z', '_', '_', 'a', 'z'}
	case 's':
		return []rune{'\t', '\r', ' ', ' '}
	}
	return nil
}

// pyASCIIClass writes Python's ASCII \d, \D, \w, \W, \s or \S (c) for
// RE2 or .NET, out of or in a class; ranges writes a set of ranges as the
// inside of a class in the engine's syntax. "" for any other escape.
func pyASCIIClass(c byte, inClass bool, ranges func([]rune) string) string {
	lower := c | 0x20
	set := pyASCII(lower)
	switch {
	case set == nil || strings.IndexByte("dDwWsS", c) < 0:
		return ""
	case c != lower && inClass:
		return ranges(complementRanges(set))
	case inClass:
		return ranges(set)
	case c != lower:
		return "[^" + ranges(set) + "]"
	}
	return "[" + ranges(set) + "]"
}

// pyClass is pyUnicode's set for c (d, w or s) as sorted, disjoint ranges
// (pairs lo, hi), its complement when negate.
func pyClass(c byte, negate bool) []rune {
	_, tables, extra := pyUnicode(c)
	var rs []rune
	for _, t := range tables {
		for _, r := range t.R16 {
			rs = appendStrided(rs, rune(r.Lo), rune(r.Hi), rune(r.Stride))
		}
		for _, r := range t.R32 {
			rs = appendStrided(rs, rune(r.Lo), rune(r.Hi), rune(r.Stride))
		}
	}
	rs = mergeRanges(append(rs, extra...))
	if negate {
		rs = complementRanges(rs)
	}
	return rs
}

func appendStrided(rs []rune, lo, hi, stride rune) []rune {
	if stride == 1 {
		return append(rs, lo, hi)
	}
	for r := lo; r <= hi; r += stride {
		rs = append(rs, r, r)
	}
	return rs
}

// mergeRanges sorts range pairs and joins those that touch or overlap.
func mergeRanges(rs []rune) []rune {
	pairs := make([][2]rune, 0, len(rs)/2)
	for i := 0; i+1 < len(rs); i += 2 {
		pairs = append(pairs, [2]rune{rs[i], rs[i+1]})
	}
	slices.SortFunc(pairs, func(a, b [2]rune) int { return int(a[0] - b[0]) })
	out := make([]rune, 0, len(rs))
	for _, p := range pairs {
		if n := len(out); n > 0 && p[0] <= out[n-1]+1 {
			out[n-1] = max(out[n-1], p[1])
			continue
		}
		out = append(out, p[0], p[1])
	}
	return out
}

// complementRanges is every rune merged ranges rs leave out.
func complementRanges(rs []rune) []rune {
	var out []rune
	next := rune(0)
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i] > next {
			out = append(out, next, rs[i]-1)
		}
		next = rs[i+1] + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, next, unicode.MaxRune)
	}
	return out
}

// re2Ranges writes ranges as the inside of an RE2 class.
func re2Ranges(rs []rune) string {
	var b strings.Builder
	for i := 0; i+1 < len(rs); i += 2 {
		fmt.Fprintf(&b, `\x{%x}`, rs[i])
		if rs[i+1] != rs[i] {
			fmt.Fprintf(&b, `-\x{%x}`, rs[i+1])
		}
	}
	return b.String()
}

// dotNetRanges writes ranges as the inside of a .NET class.
func dotNetRanges(rs []rune) string {
	var out []byte
	for i := 0; i+1 < len(rs); i += 2 {
		out = appendDotNetRune(out, rs[i])
		if rs[i+1] != rs[i] {
			out = append(out, '-')
			out = appendDotNetRune(out, rs[i+1])
		}
	}
	return string(out)
}

// dotNetClass is Python's \d, \w, \s (pyUnicodeClass, or under the
// ASCII flag pyASCIIClass), their negations, \b and \B in .NET syntax,
// out of and in a class: .NET's own \w takes combining marks and
// connector punctuation but not Nl or No numbers, its \s leaves out
// U+001C-U+001F, its \b follows its \w, and it has no ASCII flag.
// "" for any other escape.
func dotNetClass(c byte, inClass, ascii bool) string {
	class := pyUnicodeClass
	if ascii {
		class = pyASCIIClass
	}
	if c != 'b' && c != 'B' {
		return class(c, inClass, dotNetRanges)
	}
	if inClass {
		return "" // a backspace, copied as it is
	}
	word := class('w', false, dotNetRanges)
	if c == 'b' {
		return `(?:(?<=` + word + `)(?!` + word + `)|(?<!` + word + `)(?=` + word + `))`
	}
	return `(?:(?<=` + word + `)(?=` + word + `)|(?<!` + word + `)(?!` + word + `))`
}

// isASCII reports whether s holds only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
