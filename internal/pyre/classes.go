package pyre

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Python 3 str patterns give \d, \w and \s their Unicode meanings (the
// same Unicode version, 15.0, as Go's tables): \d is Nd, \w is a letter,
// a number or "_", \s is a Z character or one of the C0/C1 separators
// str.isspace takes. pyClass is that set as sorted, disjoint ranges
// (pairs lo, hi), its complement when negate.
func pyClass(c byte, negate bool) []rune {
	var tables []*unicode.RangeTable
	var extra []rune
	switch c {
	case 'd':
		tables = []*unicode.RangeTable{unicode.Nd}
	case 'w':
		tables = []*unicode.RangeTable{unicode.L, unicode.N}
		extra = []rune{'_', '_'}
	case 's':
		tables = []*unicode.RangeTable{unicode.Z}
		extra = []rune{'\t', '\r', 0x1c, 0x1f, 0x85, 0x85}
	}
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

// dotNetUnicode is Python's Unicode \d, \w, \s (and their negations, \b
// and \B) in .NET syntax, out of and in a class: .NET's own \w takes
// combining marks and connector punctuation but not Nl or No numbers, its
// \s leaves out U+001C-U+001F, and its \b follows its \w. The negations
// in a class are written out (.NET cannot negate inside a class). "" for
// any other escape.
func dotNetUnicode(c byte, inClass bool) string {
	const word = `[\p{L}\p{N}_]`
	const space = `\t-\r\x1c-\x20\x85\p{Z}`
	switch c {
	case 'd':
		return `\p{Nd}`
	case 'D':
		return `\P{Nd}`
	case 'w':
		if inClass {
			return `\p{L}\p{N}_`
		}
		return word
	case 's':
		if inClass {
			return space
		}
		return "[" + space + "]"
	case 'W', 'S':
		if inClass {
			return dotNetRanges(pyClass(c+'a'-'A', true))
		}
		if c == 'W' {
			return `[^\p{L}\p{N}_]`
		}
		return "[^" + space + "]"
	case 'b':
		if inClass {
			return "" // a backspace, copied as it is
		}
		return `(?:(?<=` + word + `)(?!` + word + `)|(?<!` + word + `)(?=` + word + `))`
	case 'B':
		if inClass {
			return ""
		}
		return `(?:(?<=` + word + `)(?=` + word + `)|(?<!` + word + `)(?!` + word + `))`
	}
	return ""
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
