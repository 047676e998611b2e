package pyre

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// asciiCaseNote says what appcfg does with (?a) and (?i) together in a
// pattern the backtracking engine runs.
const asciiCaseNote = "with the ASCII flag (?a) and IGNORECASE (?i) together Python folds the case of ASCII letters only; in a pattern only the backtracking engine runs (look-around, back-references …) appcfg folds case as Unicode does (k also matches U+212A KELVIN SIGN, é matches É)"

// toDotNet rewrites a Python pattern into the .NET syntax regexp2 reads,
// where the two differ: (?P<name>…) is (?<name>…), (?P=name) is
// \k<name>, Python's \Z (the very end) is .NET's \z, {,n} is {0,n},
// \N{NAME} is the character, and a possessive quantifier (X*+, X++, X?+,
// X{m,n}+, Python 3.11), which .NET lacks, is the atomic group it means,
// (?>X*). The flags .NET does not know are applied here and dropped: u
// (Unicode, already the meaning) and a (ASCII: dotNetClass). Escapes and
// character classes are otherwise copied as they are. flags are
// re.compile's: ASCII is applied here, HoistGlobalFlags lets global flags
// stand anywhere (moved to the start: .NET would apply them from where
// they stand), and the others are regexp2's options (compileDotNet).
// The note is Inexact's: the ASCII and IGNORECASE flags together are
// approximated.
func toDotNet(p string, flags Flags, g *dotNetGroups) (string, string, error) {
	var out []byte
	var groups []int   // where each open group starts in out
	var asciis []bool  // the ASCII flag outside each open group
	atom := -1         // where the last quantifiable item starts in out, -1 for none
	lead := 0          // the length of out that holds global flags only
	var hoisted []byte // global flags, with HoistGlobalFlags, for the start
	ascii := flags&ASCII != 0 || globalASCII(p)
	sawASCII, sawCase := ascii, flags&IgnoreCase != 0
	inClass := false
	open := func(at int) {
		groups = append(groups, at)
		asciis = append(asciis, ascii)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		start := len(out)
		switch {
		case c == '\\' && i+1 < len(p):
			cls := dotNetClass(p[i+1], inClass, ascii) // "" for none
			switch {
			case flags&Python27 != 0 && py27Literal(p[i+1], inClass):
				out = appendDotNetRune(out, rune(p[i+1]))
				i++
			case p[i+1] == 'Z' && !inClass:
				out = append(out, `\z`...)
				i++
			case p[i+1] == 'N':
				r, err := namedEscape(p, i)
				if err != nil {
					return "", "", err
				}
				out = appendDotNetRune(out, r)
				i += len(namedEscapeText(p, i)) - 1
			case cls != "":
				out = append(out, cls...)
				i++
			case p[i+1] == 'U' && i+10 <= len(p):
				// .NET has no \UXXXXXXXX; translate checked the digits.
				v, err := strconv.ParseUint(p[i+2:i+10], 16, 32)
				if err != nil || v > unicode.MaxRune {
					return "", "", fmt.Errorf(`bad escape %s at position %d`, p[i:i+10], i)
				}
				out = appendDotNetRune(out, rune(v))
				i += 9
			default:
				_, size := utf8.DecodeRuneInString(p[i+1:])
				out = append(out, p[i:i+1+size]...)
				i += size
			}
			if !inClass {
				atom = start
			}
			continue
		case inClass:
			if c == ']' {
				inClass = false
			}
			out = append(out, c)
			continue
		case c == '[':
			inClass = true
			atom = start
			// a ']' right after '[' or '[^' is a literal
			out = append(out, '[')
			if i+1 < len(p) && p[i+1] == '^' {
				out = append(out, '^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				out = append(out, ']')
				i++
			}
			continue
		case strings.HasPrefix(p[i:], "(?P="):
			if end := strings.IndexByte(p[i:], ')'); end > 0 {
				out = append(out, `\k<`+g.ref(p[i+len("(?P="):i+end])+`>`...)
				i += end
				atom = start
				continue
			}
		case strings.HasPrefix(p[i:], "(?P<"):
			if end := strings.IndexByte(p[i:], '>'); end > 0 {
				out = g.appendOpen(out, p[i+len("(?P<"):i+end])
				i += end
				open(start)
				atom = -1
				continue
			}
		case strings.HasPrefix(p[i:], "(?(") && g.isName(p[i+len("(?("):]):
			// (?(name)…) tests the group by its number, as (?(1)…) does.
			end := strings.IndexByte(p[i:], ')')
			out = append(out, "(?("+g.ref(p[i+len("(?("):i+end])+")"...)
			i += end
			open(start)
			atom = -1
			continue
		case strings.HasPrefix(p[i:], "(?#"):
			end := strings.IndexByte(p[i:], ')')
			if end < 0 {
				end = len(p) - i - 1
			}
			i += end // a comment is nothing
			continue
		case c == '(' && !strings.HasPrefix(p[i:], "(?"):
			open(start)
			out = g.appendOpen(out, "")
			atom = -1
			continue
		case c == '(' && !strings.HasPrefix(p[i:], "(?P"):
			if n := dotNetGroupPrefix(p[i:]); n > 0 {
				out = append(out, p[i:i+n]...)
				i += n - 1
				open(start)
				if n == 3 && p[i] == '(' { // (?(1)…): the condition's ")" closes one more
					open(start)
				}
				atom = -1
				continue
			}
			if n, setsASCII := dotNetFlags(p[i:]); n > 0 {
				group := p[i : i+n]
				if on, _, _ := strings.Cut(group, "-"); strings.Contains(on, "i") {
					sawCase = true
				}
				if strings.Contains(group, "L") && flags&Python27 == 0 {
					return "", "", localeFlagError(i + strings.IndexByte(group, 'L'))
				}
				if j := strings.IndexByte(group, 't'); j >= 0 && !strings.HasSuffix(group, ")") {
					return "", "", templateScopedError(i + j)
				}
				// a, u and L are applied to the classes (ascii), t by
				// Compile (Template), not .NET's.
				kept := strings.NewReplacer("a", "", "u", "", "L", "", "t", "").Replace(group)
				if strings.HasSuffix(group, ")") { // global flags: no group opens
					if flags&HoistGlobalFlags == 0 && len(out) > lead {
						return "", "", globalFlagsError(i)
					}
					if on, _, _ := strings.Cut(group, "-"); strings.Contains(on, "x") {
						flags |= Verbose
					}
					switch {
					case kept == "(?)" || kept == "(?-)":
					case flags&HoistGlobalFlags != 0:
						// .NET applies them from where they stand.
						hoisted = append(hoisted, kept...)
					default:
						out = append(out, kept...)
					}
					lead = len(out)
					i += n - 1
					continue
				}
				if kept == "(?-:" {
					kept = "(?:"
				}
				out = append(out, kept...)
				i += n - 1
				open(start)
				if setsASCII {
					ascii, sawASCII = true, true
				}
				atom = -1
				continue
			}
			// Anything else after "(?" is copied for regexp2 to judge.
			out = append(out, "(?"...)
			i++
			atom = -1
			continue
		case c == ')':
			out = append(out, c)
			atom = -1
			if n := len(groups); n > 0 {
				atom, groups = groups[n-1], groups[:n-1]
				ascii, asciis = asciis[n-1], asciis[:n-1]
			}
			continue
		case c == '*' || c == '+' || c == '?' || c == '{' && isRepeat(p[i:]):
			if flags&Template != 0 {
				return "", "", templateRepeatError(i)
			}
			n := 1
			if c == '{' {
				n = strings.IndexByte(p[i:], '}') + 1
				q := p[i : i+n]
				if strings.HasPrefix(q, "{,") {
					q = "{0," + q[2:]
				}
				out = append(out, q...)
			} else {
				out = append(out, c)
			}
			i += n - 1
			if atom >= 0 && i+1 < len(p) && p[i+1] == '+' {
				// X*+ is (?>X*): what X* matched is never given back.
				out = append(out[:atom], append(append([]byte("(?>"), out[atom:]...), ')')...)
				i++
				if i+1 < len(p) && (strings.IndexByte("*+?", p[i+1]) >= 0 || p[i+1] == '{' && isRepeat(p[i+1:])) {
					return "", "", fmt.Errorf("multiple repeat at position %d", i+1)
				}
			}
			atom = -1
			continue
		case c == '|' || c == '^' || c == '$':
			atom = -1
			out = append(out, c)
			continue
		}
		atom = start
		out = append(out, c)
	}
	if flags&Verbose != 0 {
		// A "#" comment runs to the end of the line: the suffix after
		// the pattern is not part of it.
		out = append(out, '\n')
	}
	if len(hoisted) > 0 {
		out = append(hoisted, out...)
	}
	inexact := ""
	if sawASCII && sawCase {
		inexact = asciiCaseNote
	}
	return string(out), inexact, nil
}

// dotNetGroups numbers the capture groups of one pattern as Python does:
// in the order of their opening parentheses, named or not, across the
// prefix, pattern and suffix Compile joins. .NET numbers the unnamed
// groups first and the named ones after them, so (?P<a>x)(y)\1 would
// match "xyy" and give y as group 1; each group is therefore written with
// its Python number, (?<2>…), its name kept here (SubexpIndex), and a
// reference by name, (?P=a) or (?(a)…), becomes one by number. A \1 then
// means what it means in Python.
type dotNetGroups struct {
	n     int            // groups opened so far
	names map[string]int // number of each named group
}

// appendOpen appends the opening of the next capture group, named name
// ("" for none), to out.
func (g *dotNetGroups) appendOpen(out []byte, name string) []byte {
	g.n++
	if name != "" {
		if g.names == nil {
			g.names = map[string]int{}
		}
		g.names[name] = g.n
	}
	return fmt.Appendf(out, "(?<%d>", g.n)
}

// ref is how .NET refers to the group a Python reference names: its
// number, or the name itself when no group has it (regexp2 then refuses
// it, as Python does).
func (g *dotNetGroups) ref(name string) string {
	if n, ok := g.names[name]; ok {
		return strconv.Itoa(n)
	}
	return name
}

// isName reports whether p starts with the name of a group and ")", as
// a conditional's test does after "(?(".
func (g *dotNetGroups) isName(p string) bool {
	name, _, ok := strings.Cut(p, ")")
	_, known := g.names[name]
	return ok && known
}

// globalASCII reports whether p sets the ASCII flag for the whole
// pattern, with a "(?a…)" group of flags alone anywhere outside a class.
func globalASCII(p string) bool {
	return strings.ContainsRune(globalFlags(p), 'a')
}

// globalFlags is the letters of the groups of flags alone ("(?iu)") that
// stand anywhere in p outside a class: the flags of the whole pattern.
func globalFlags(p string) string {
	var letters strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
			if strings.HasPrefix(p[i+1:], "^]") {
				i += 2
			} else if strings.HasPrefix(p[i+1:], "]") {
				i++
			}
		case c == '(':
			if n, _ := dotNetFlags(p[i:]); n > 0 && p[i+n-1] == ')' {
				letters.WriteString(p[i+2 : i+n-1])
			}
		}
	}
	return letters.String()
}

// appendDotNetRune appends r as .NET reads one character: \uXXXX, or the
// character itself beyond the BMP (none of those is a metacharacter).
func appendDotNetRune(out []byte, r rune) []byte {
	if r <= 0xFFFF {
		return fmt.Appendf(out, `\u%04X`, r)
	}
	return utf8.AppendRune(out, r)
}

// dotNetGroupPrefix measures the group extension at the start of p that
// both syntaxes spell alike ("(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>",
// "(?("), 0 for none.
func dotNetGroupPrefix(p string) int {
	for _, g := range []string{"(?<=", "(?<!", "(?:", "(?=", "(?!", "(?>", "(?("} {
		if strings.HasPrefix(p, g) {
			return len(g)
		}
	}
	return 0
}

// dotNetFlags measures the inline-flag group at the start of p, "(?ai)"
// or "(?a-i:": its length (0 when p does not start one) and whether it
// sets the ASCII flag.
func dotNetFlags(p string) (int, bool) {
	if !strings.HasPrefix(p, "(?") {
		return 0, false
	}
	ascii := false
	for j := 2; j < len(p); j++ {
		switch f := p[j]; {
		case f == ')' || f == ':':
			if j == 2 {
				return 0, false // "(?:" is a plain group
			}
			return j + 1, ascii
		case f == 'a':
			ascii = true
		case strings.IndexByte("-imsuxLt", f) < 0:
			return 0, false
		}
	}
	return 0, false
}

// isRepeat reports whether p starts a {m}, {m,}, {,n} or {m,n}
// repetition, which Python reads as one; any other "{" is a literal.
func isRepeat(p string) bool {
	end := strings.IndexByte(p, '}')
	if end < 0 {
		return false
	}
	lo, hi, comma := strings.Cut(p[1:end], ",")
	return isDigits(lo, comma) && isDigits(hi, true)
}
