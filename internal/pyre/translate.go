package pyre

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// UnsupportedError reports a Python regular-expression construct that Go's
// RE2 engine cannot run. Silently matching something else would upload (or
// drop) the wrong files, so translation stops instead.
type UnsupportedError struct {
	Pattern   string // the whole pattern as written
	Offset    int    // byte offset of the construct in Pattern
	Construct string // the text of the construct, e.g. "(?=" or "\1"
	What      string // a name for it, e.g. "look-ahead"
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s %q at offset %d cannot be run by Go's regular expressions (RE2); rewrite the pattern without it",
		e.What, e.Construct, e.Offset)
}

// pyTranslator turns one Python pattern into Go syntax. Global inline flags
// are collected and applied to the whole pattern: at its start, as Python
// 3.11 takes them, or with hoist anywhere, as Python before 3.11 (and the
// 2.7 SDK) applied "(?i)" wherever it appeared.
type pyTranslator struct {
	src    string
	pos    int
	out    strings.Builder
	global map[rune]bool
	hoist  bool // HoistGlobalFlags
	// py27 (Python27): the u and L letters were read by Flags.python27
	// and are skipped here.
	py27 bool
	// template (the Template flag): a repetition is an error.
	template bool
	// lastQuant is true right after a quantifier, so a following "+" (a
	// possessive quantifier in Python 3.11+) is recognised.
	lastQuant bool
	// ascii is the ASCII flag ((?a), re.ASCII) where the translator is:
	// \d, \w and \s mean their ASCII classes. ic is the IGNORECASE flag
	// there: with ascii, Python folds the case of ASCII letters only
	// (asciiFold). groups saves both at each open group, for its ")" to
	// restore them after a scoped (?a:...) or (?i:...).
	ascii, ic bool
	groups    [][2]bool
	// wordBoundary: a \b or \B outside the ASCII flag, which RE2 reads
	// on ASCII word characters only.
	wordBoundary bool
}

// dollarMark stands in for "$" until the global flags are known: without
// the MULTILINE flag Python's "$" also matches before a final newline.
const dollarMark = '\uE000'

// Translate converts a Python `re` pattern into an equivalent Go regexp
// (RE2) pattern, without anchoring it. It fails with an
// *UnsupportedError for look-around, back-references, conditionals, atomic
// groups, possessive quantifiers and the verbose flag (Compile runs those
// on the backtracking engine).
//
// Known approximations: \b and \B (without the ASCII flag) see only
// ASCII word characters, so the result is exact for ASCII inputs only
// (Compile runs other inputs on the backtracking engine).
func Translate(pattern string) (string, error) {
	tr, err := translate(pattern, HoistGlobalFlags)
	return tr.flags + tr.body, err
}

// translation is translate's result: the hoisted global flags ("(?i)" or
// "") apart from the body, so Compile can anchor the body behind them, and
// how the result differs from Python's meaning ("" when it does not).
type translation struct {
	flags, body string
	// asciiOnly: the body means what Python means for ASCII inputs only
	// (a Unicode \b or \B, which RE2 reads on ASCII word characters:
	// Python's \b sees é as a word character, RE2's does not).
	asciiOnly bool
	// finalNewline: a "$" outside MULTILINE is written \n?$, which
	// decides a match as Python's "$" does but takes a final newline into
	// the matched text, where Python's stops before it.
	finalNewline bool
}

// flagLetters are the inline spellings of re.compile's flags the
// translator applies.
var flagLetters = []struct {
	flag   Flags
	letter rune
}{{IgnoreCase, 'i'}, {Multiline, 'm'}, {DotAll, 's'}, {ASCII, 'a'}, {Unicode, 'u'}}

// newTranslator starts translating pattern under re.compile's flags.
func newTranslator(pattern string, flags Flags) *pyTranslator {
	t := &pyTranslator{src: pattern, global: map[rune]bool{}, hoist: flags&HoistGlobalFlags != 0, py27: flags&Python27 != 0, template: flags&Template != 0}
	for _, f := range flagLetters {
		t.global[f.letter] = flags&f.flag != 0
	}
	t.ic, t.ascii = t.global['i'], t.global['a']
	return t
}

// translate translates pattern under re.compile's flags.
func translate(pattern string, flags Flags) (translation, error) {
	if flags&Verbose != 0 {
		return translation{}, &UnsupportedError{Pattern: pattern, Construct: "re.VERBOSE", What: "verbose flag"}
	}
	t := newTranslator(pattern, flags)
	err := t.run()
	if err == nil && (t.global['a'] && flags&ASCII == 0 || t.global['i'] && flags&IgnoreCase == 0) {
		// Global flags apply to the whole pattern, also before them.
		for _, f := range flagLetters {
			if t.global[f.letter] {
				flags |= f.flag
			}
		}
		t = newTranslator(pattern, flags)
		err = t.run()
	}
	if err == nil && t.global['a'] && t.global['u'] {
		err = fmt.Errorf("ASCII and UNICODE flags are incompatible")
	}
	if err != nil {
		return translation{}, err
	}
	tr := translation{asciiOnly: t.wordBoundary}
	body := t.out.String()
	dollar := `(?:\n?$)`
	if t.global['m'] {
		dollar = "$"
	} else {
		tr.finalNewline = strings.ContainsRune(body, dollarMark)
	}
	body = strings.ReplaceAll(body, string(dollarMark), dollar)
	var fl strings.Builder
	for _, f := range "ims" { // a and u are applied by the translation itself
		if t.global[f] {
			fl.WriteRune(f)
		}
	}
	if fl.Len() > 0 {
		tr.flags = "(?" + fl.String() + ")"
	}
	tr.body = body
	return tr, nil
}

func (t *pyTranslator) unsupported(at int, construct, what string) error {
	return &UnsupportedError{Pattern: t.src, Offset: at, Construct: construct, What: what}
}

func (t *pyTranslator) peek(off int) byte {
	if t.pos+off < len(t.src) {
		return t.src[t.pos+off]
	}
	return 0
}

func (t *pyTranslator) run() error {
	for t.pos < len(t.src) {
		c, at := t.src[t.pos], t.pos
		quant := false
		var err error
		switch c {
		case '\\':
			err = t.escape(false)
		case '[':
			err = t.class()
		case '(':
			err = t.group()
		case '{':
			quant, err = t.brace()
		case '*', '+', '?':
			if c == '+' && t.lastQuant {
				return t.unsupported(t.pos, "+", "possessive quantifier")
			}
			if (c == '*' || c == '+') && t.lastQuant {
				return fmt.Errorf("multiple repeat at offset %d", t.pos)
			}
			t.out.WriteByte(c)
			t.pos++
			// A "?" after a quantifier makes it lazy and ends it.
			quant = !(c == '?' && t.lastQuant)
		case '$':
			t.out.WriteRune(dollarMark)
			t.pos++
		case '}':
			t.out.WriteString(`\}`)
			t.pos++
		case ')':
			if n := len(t.groups); n > 0 {
				t.ascii, t.ic, t.groups = t.groups[n-1][0], t.groups[n-1][1], t.groups[:n-1]
			}
			t.out.WriteByte(')')
			t.pos++
		default:
			r, size := utf8.DecodeRuneInString(t.src[t.pos:])
			t.char(r, "")
			t.pos += size
		}
		if err != nil {
			return err
		}
		if quant && t.template {
			return templateRepeatError(at)
		}
		t.lastQuant = quant
	}
	return nil
}

// templateScopedError is Python's refusal of "(?t:...)" at offset at.
func templateScopedError(at int) error {
	return fmt.Errorf("bad inline flags: cannot turn on global flag at position %d", at)
}

// localeFlagError is Python 3's refusal of "(?L)" (re.LOCALE) in a str
// pattern, as the SDK's are, the L standing at offset at.
func localeFlagError(at int) error {
	return fmt.Errorf("bad inline flags: cannot use 'L' flag with a str pattern at position %d", at)
}

// templateRepeatError is sre's refusal of a repetition under re.TEMPLATE
// (Template), ending at offset at, in words that say what to do.
func templateRepeatError(at int) error {
	return fmt.Errorf("re.TEMPLATE (re.T) allows no repetition (*, +, ?, {m,n}), as Python's re refuses it (\"unsupported template operator\"), and the pattern repeats at offset %d: remove the flag or the repetition", at)
}

func (t *pyTranslator) literal(r rune) {
	if r == dollarMark {
		t.out.WriteString(`\x{e000}`)
		return
	}
	t.out.WriteRune(r)
}

// unsupportedGroups are the group extensions RE2 has no equivalent for.
var unsupportedGroups = []struct{ prefix, what string }{
	{"(?=", "look-ahead"}, {"(?!", "negative look-ahead"},
	{"(?<=", "look-behind"}, {"(?<!", "negative look-behind"},
	{"(?(", "conditional group"}, {"(?>", "atomic group"},
}

// group handles "(" and the "(?" extensions.
func (t *pyTranslator) group() error {
	start := t.pos
	if t.peek(1) != '?' {
		t.open()
		t.out.WriteByte('(')
		t.pos++
		return nil
	}
	switch t.peek(2) {
	case ':':
		t.open()
		t.out.WriteString("(?:")
		t.pos += 3
		return nil
	case 'P':
		switch t.peek(3) {
		case '<':
			end := strings.IndexByte(t.src[t.pos:], '>')
			if end < 0 {
				return fmt.Errorf("missing '>' in group name at offset %d", start)
			}
			t.open()
			t.out.WriteString(t.src[t.pos : t.pos+end+1])
			t.pos += end + 1
			return nil
		case '=':
			end := strings.IndexByte(t.src[t.pos:], ')')
			if end < 0 {
				end = len(t.src) - t.pos - 1
			}
			return t.unsupported(start, t.src[start:t.pos+end+1], "named back-reference")
		}
		return fmt.Errorf("unknown extension ?P%c at offset %d", t.peek(3), start)
	case '<':
		if t.peek(3) != '=' && t.peek(3) != '!' {
			return fmt.Errorf("unknown extension ?<%c at offset %d", t.peek(3), start)
		}
	}
	for _, g := range unsupportedGroups {
		if strings.HasPrefix(t.src[start:], g.prefix) {
			return t.unsupported(start, g.prefix, g.what)
		}
	}
	switch t.peek(2) {
	case '#':
		end := strings.IndexByte(t.src[t.pos:], ')')
		if end < 0 {
			return fmt.Errorf("missing ), unterminated comment at offset %d", start)
		}
		t.pos += end + 1
		return nil
	}
	return t.flags(start)
}

// open notes a group opening, whose ")" restores the flags of now.
func (t *pyTranslator) open() { t.groups = append(t.groups, [2]bool{t.ascii, t.ic}) }

// asciiFold reports whether the ASCII and IGNORECASE flags are both on:
// Python then folds the case of ASCII letters only, where RE2's (?i)
// folds Unicode's (k matches U+212A KELVIN SIGN, é matches É).
func (t *pyTranslator) asciiFold() bool { return t.ascii && t.ic }

// char writes the character r outside a class, as text ("" for r itself).
// Under asciiFold a cased character is set apart from RE2's (?i): an ASCII
// letter as the class of its two cases, any other as itself.
func (t *pyTranslator) char(r rune, text string) {
	if t.ic && !t.ascii {
		if set := pyFoldSet(r); set != nil {
			t.out.WriteString("[" + string(set) + "]")
			return
		}
	}
	if !t.asciiFold() || unicode.SimpleFold(r) == r {
		if text == "" {
			t.literal(r)
		} else {
			t.out.WriteString(text)
		}
		return
	}
	t.out.WriteString("(?-i:")
	switch {
	case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		t.out.WriteString("[" + string(r|0x20) + string(r&^0x20) + "]")
	case text != "":
		t.out.WriteString(text)
	default:
		t.literal(r)
	}
	t.out.WriteByte(')')
}

// flags handles "(?aiLmsuxt)" (global) and "(?i-s:...)" (scoped). The
// ASCII flag is applied here (to \d, \w, \s); RE2's \b is ASCII already.
func (t *pyTranslator) flags(start int) error {
	i := t.pos + 2
	var on, off strings.Builder
	neg := false
	ascii, unicode := false, false
	for ; i < len(t.src); i++ {
		f := t.src[i]
		switch {
		case f == '-':
			neg = true
			continue
		case f == ')' || f == ':':
		case strings.IndexByte("aiLmsuxt", f) >= 0:
			group := t.src[start:]
			if end := strings.IndexAny(group, ":)"); end >= 0 {
				group = group[:end+1]
			}
			if f == 't' { // re.TEMPLATE, read by Compile: global only
				if strings.HasSuffix(group, ":") {
					return templateScopedError(i)
				}
				continue
			}
			if t.py27 && (f == 'u' || f == 'L') {
				continue
			}
			switch f {
			case 'x':
				return t.unsupported(start, group, "verbose flag")
			case 'L':
				return localeFlagError(i)
			case 'a':
				if neg {
					return fmt.Errorf("bad inline flags: cannot turn off flags 'a', 'u' and 'L' at position %d", i)
				}
				ascii = true
				continue
			case 'u': // Unicode is already the meaning of str patterns
				unicode = true
				continue
			}
			if neg {
				off.WriteByte(f)
			} else {
				on.WriteByte(f)
			}
			continue
		default:
			return fmt.Errorf("unknown extension ?%c at offset %d", f, start)
		}
		break
	}
	if i >= len(t.src) {
		return fmt.Errorf("missing -, : or ) after inline flags at offset %d", start)
	}
	if ascii && unicode {
		return fmt.Errorf("bad inline flags: flags 'a', 'u' and 'L' are incompatible at position %d", i)
	}
	if t.src[i] == ')' {
		if neg {
			return fmt.Errorf("missing : after inline flags at offset %d", start)
		}
		if !t.hoist && t.out.Len() > 0 {
			return globalFlagsError(start)
		}
		for _, f := range on.String() {
			t.global[f] = true
		}
		if ascii {
			t.global['a'] = true
		}
		if unicode {
			t.global['u'] = true
		}
		t.pos = i + 1
		return nil
	}
	t.open()
	t.ascii = t.ascii || ascii
	if strings.ContainsRune(on.String(), 'i') {
		t.ic = true
	} else if strings.ContainsRune(off.String(), 'i') {
		t.ic = false
	}
	if on.Len() == 0 && off.Len() == 0 {
		t.out.WriteString("(?:")
		t.pos = i + 1
		return nil
	}
	t.out.WriteString("(?" + on.String())
	if off.Len() > 0 {
		t.out.WriteString("-" + off.String())
	}
	t.out.WriteByte(':')
	t.pos = i + 1
	return nil
}

// globalFlagsError is Python 3.11's refusal of global inline flags
// ("(?i)") at offset start, after the start of the pattern: after
// anything but other global flags and comments.
func globalFlagsError(start int) error {
	return fmt.Errorf("global flags not at the start of the expression at position %d", start)
}

// brace handles "{": a repetition when it is one, else a literal, as in
// Python; "{,n}" means "{0,n}" there.
func (t *pyTranslator) brace() (bool, error) {
	end := strings.IndexByte(t.src[t.pos:], '}')
	if end > 0 {
		inner := t.src[t.pos+1 : t.pos+end]
		lo, hi, comma := strings.Cut(inner, ",")
		if isDigits(lo, comma) && isDigits(hi, true) {
			if t.lastQuant {
				return false, fmt.Errorf("multiple repeat at offset %d", t.pos)
			}
			for _, n := range []string{lo, hi} {
				if v, err := strconv.Atoi(n); n != "" && (err != nil || v > 1000) {
					return false, t.unsupported(t.pos, "{"+inner+"}", "repetition count over 1000")
				}
			}
			if lo == "" {
				lo = "0"
			}
			t.out.WriteString("{" + lo)
			if comma {
				t.out.WriteString("," + hi)
			}
			t.out.WriteByte('}')
			t.pos += end + 1
			return true, nil
		}
	}
	t.out.WriteString(`\{`)
	t.pos++
	return false, nil
}

func isDigits(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// class copies a character class, escaping what RE2 reads differently:
// a literal "[" (RE2 would see "[:alpha:]" as a POSIX class).
func (t *pyTranslator) class() error {
	start, at := t.pos, t.out.Len()
	t.out.WriteByte('[')
	t.pos++
	if t.peek(0) == '^' {
		t.out.WriteByte('^')
		t.pos++
	}
	first := true
	for t.pos < len(t.src) {
		c := t.src[t.pos]
		switch {
		case c == ']' && !first:
			t.out.WriteByte(']')
			t.pos++
			if t.asciiFold() {
				t.foldClass(at)
			} else if t.ic {
				t.addPyFolds(at)
			}
			return nil
		case c == ']':
			t.out.WriteString(`\]`)
			t.pos++
		case c == '[':
			t.out.WriteString(`\[`)
			t.pos++
		case c == '\\':
			if err := t.escape(true); err != nil {
				return err
			}
		default:
			r, size := utf8.DecodeRuneInString(t.src[t.pos:])
			t.literal(r)
			t.pos += size
		}
		first = false
	}
	return fmt.Errorf("unterminated character set at offset %d", start)
}

// namedEscapeText is the text of the \N{...} escape at start, as far as it
// goes ("\N" or "\N{..." when unterminated).
func namedEscapeText(p string, start int) string {
	rest := p[start:]
	if len(rest) > 2 && rest[2] == '{' {
		if end := strings.IndexByte(rest, '}'); end > 0 {
			return rest[:end+1]
		}
	}
	return rest[:2]
}

// namedEscape reads \N{NAME} at start as Python's re does, with its
// errors.
func namedEscape(p string, start int) (rune, error) {
	text := namedEscapeText(p, start)
	switch {
	case len(text) == 2 || text[len(text)-1] != '}':
		if len(text) == 2 && (start+2 >= len(p) || p[start+2] != '{') {
			return 0, fmt.Errorf("missing { at position %d", start+2)
		}
		return 0, fmt.Errorf("missing }, unterminated name at position %d", start+3)
	case len(text) == 4:
		return 0, fmt.Errorf("missing character name at position %d", start+3)
	}
	name := text[3 : len(text)-1]
	r, ok := lookupName(name)
	if !ok {
		return 0, fmt.Errorf("undefined character name '%s' at position %d", name, start)
	}
	return r, nil
}

// escape translates a backslash sequence, in or out of a class.
func (t *pyTranslator) escape(inClass bool) error {
	start := t.pos
	if t.pos+1 >= len(t.src) {
		return fmt.Errorf("bad escape (end of pattern) at offset %d", start)
	}
	c := t.src[t.pos+1]
	t.pos += 2
	if t.py27 && py27Literal(c, inClass) {
		t.escapedChar(rune(c), inClass)
		return nil
	}
	if cls := pyASCIIClass(c, inClass, re2Ranges); cls != "" && t.ascii {
		if t.ic && !inClass { // RE2's (?i) would add U+212A and U+017F to \w
			cls = "(?-i:" + cls + ")"
		}
		t.out.WriteString(cls)
		return nil
	}
	if cls := pyUnicodeClass(c, inClass, re2Ranges); cls != "" {
		t.out.WriteString(cls)
		return nil
	}
	switch c {
	case 'a', 'f', 'n', 'r', 't', 'v':
		t.out.WriteString(`\` + string(c))
		return nil
	case 'A', 'B', 'Z':
		if inClass {
			return fmt.Errorf(`bad escape \%c at offset %d`, c, start)
		}
		t.wordBoundary = t.wordBoundary || c == 'B' && !t.ascii
		t.out.WriteString(map[byte]string{'A': `\A`, 'B': `\B`, 'Z': `\z`}[c])
		return nil
	case 'b':
		if inClass {
			t.out.WriteString(`\x08`)
		} else {
			t.out.WriteString(`\b`)
			t.wordBoundary = t.wordBoundary || !t.ascii
		}
		return nil
	case 'x':
		return t.hexEscape(start, 2, inClass)
	case 'u':
		return t.hexEscape(start, 4, inClass)
	case 'U':
		return t.hexEscape(start, 8, inClass)
	case 'N':
		r, err := namedEscape(t.src, start)
		if err != nil {
			return err
		}
		t.pos = start + len(namedEscapeText(t.src, start))
		t.escapedChar(r, inClass)
		return nil
	}
	if c >= '0' && c <= '9' {
		return t.digitEscape(start, c, inClass)
	}
	if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return fmt.Errorf(`bad escape \%c at offset %d`, c, start)
	}
	// An escaped non-letter is that character itself; RE2 accepts any
	// escaped ASCII punctuation, which keeps "[\-]" from becoming a range.
	r, size := utf8.DecodeRuneInString(t.src[start+1:])
	t.pos = start + 1 + size
	switch {
	case r < utf8.RuneSelf:
		t.out.WriteString(`\` + string(r))
	case inClass:
		t.literal(r)
	default:
		t.char(r, "")
	}
	return nil
}

// py27Literal reports whether Python 2.7's re reads the escape of the
// ASCII letter c as the letter itself ("\q" is q, "\u" u, in a class
// "\A" A), where Python 3 refuses it or gives it a meaning: its escapes of
// letters are \a \b \f \n \r \t \v \x, the classes, and \A \B \Z
// outside a class.
func py27Literal(c byte, inClass bool) bool {
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') || strings.IndexByte("abfnrtvxdDsSwW", c) >= 0 {
		return false
	}
	return inClass || strings.IndexByte("ABZ", c) < 0
}

// escapedChar writes the character an escape (\x41, \101, \N{…}) spells.
func (t *pyTranslator) escapedChar(r rune, inClass bool) {
	text := fmt.Sprintf(`\x{%x}`, r)
	if inClass {
		t.out.WriteString(text)
		return
	}
	t.char(r, text)
}

func (t *pyTranslator) hexEscape(start, digits int, inClass bool) error {
	if t.pos+digits > len(t.src) {
		return fmt.Errorf(`incomplete escape %s at offset %d`, t.src[start:], start)
	}
	h := t.src[t.pos : t.pos+digits]
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return fmt.Errorf(`incomplete escape %s at offset %d`, t.src[start:t.pos+digits], start)
	}
	t.pos += digits
	t.escapedChar(rune(v), inClass)
	return nil
}

// digitEscape follows Python: "\0" and three octal digits are octal
// characters; any other "\N" outside a class is a back-reference.
func (t *pyTranslator) digitEscape(start int, c byte, inClass bool) error {
	isOct := func(b byte) bool { return b >= '0' && b <= '7' }
	n := 1
	for n < 3 && t.pos-1+n < len(t.src) && isOct(t.src[t.pos-1+n]) {
		n++
	}
	octal := c == '0' || (isOct(c) && n == 3) || inClass
	if !octal {
		end := t.pos
		if end < len(t.src) && t.src[end] >= '0' && t.src[end] <= '9' {
			end++
		}
		return t.unsupported(start, t.src[start:end], "back-reference")
	}
	if !isOct(c) {
		return fmt.Errorf(`bad escape \%c at offset %d`, c, start)
	}
	if c == '0' {
		// "\0" takes at most two more octal digits.
		n = 1
		for n < 3 && t.pos-1+n < len(t.src) && isOct(t.src[t.pos-1+n]) {
			n++
		}
	}
	v, _ := strconv.ParseUint(t.src[t.pos-1:t.pos-1+n], 8, 32)
	if v > 0o377 {
		return fmt.Errorf(`octal escape value %s outside of range 0-0o377 at offset %d`, t.src[start:t.pos-1+n], start)
	}
	t.pos = t.pos - 1 + n
	t.escapedChar(rune(v), inClass)
	return nil
}

// foldClass rewrites the class written from at under asciiFold, as
// Python's re matches it: a character is in [C] when its ASCII lower case
// is the lower case of a member, so [C] is C with the other case of each
// ASCII letter in C added ([^C] the rest), taken apart from RE2's (?i).
func (t *pyTranslator) foldClass(at int) {
	written := t.out.String()
	class := written[at:]
	negated := strings.HasPrefix(class, "[^")
	if negated {
		class = "[" + class[2:]
	}
	re, err := syntax.Parse(class, syntax.Perl)
	if err != nil {
		return // regexp/syntax reports it when the whole is parsed
	}
	rs := classRunes(re)
	for i, n := 0, len(rs); i+1 < n; i += 2 {
		for _, span := range [][2]rune{{'A', 'Z'}, {'a', 'z'}} {
			lo, hi := max(rs[i], span[0]), min(rs[i+1], span[1])
			if lo <= hi {
				rs = append(rs, lo^0x20, hi^0x20)
			}
		}
	}
	rs = mergeRanges(rs)
	if len(rs) == 0 { // an empty set: [^all], its negation [all]
		negated, rs = !negated, []rune{0, unicode.MaxRune}
	}
	t.out.Reset()
	t.out.WriteString(written[:at])
	t.out.WriteString("(?-i:[")
	if negated {
		t.out.WriteByte('^')
	}
	t.out.WriteString(re2Ranges(rs) + "])")
}

// addPyFolds completes the class written from at under (?i) (without
// the ASCII flag) as Python's re matches it: a character is in [C] when a
// character it folds to is in C, and Python folds a few more together
// than RE2's (?i) does (pyFoldSets), so each such set C meets is added to
// C whole, negated or not.
func (t *pyTranslator) addPyFolds(at int) {
	written := t.out.String()
	body := "[" + strings.TrimPrefix(written[at+1:], "^")
	re, err := syntax.Parse(body, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return // regexp/syntax reports it when the whole is parsed
	}
	rs := classRunes(re)
	var add []rune
	for _, set := range pyFoldSets {
		if slices.ContainsFunc(set, func(r rune) bool { return inRanges(rs, r) }) {
			add = append(add, set...)
		}
	}
	if len(add) > 0 {
		t.out.Reset()
		t.out.WriteString(written[:len(written)-1] + string(add) + "]")
	}
}

// inRanges reports whether r is in rs, range pairs.
func inRanges(rs []rune, r rune) bool {
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i] <= r && r <= rs[i+1] {
			return true
		}
	}
	return false
}

// classRunes is the set a parsed class matches, as range pairs.
func classRunes(re *syntax.Regexp) []rune {
	switch re.Op {
	case syntax.OpCharClass:
		return append([]rune(nil), re.Rune...)
	case syntax.OpLiteral:
		var rs []rune
		for _, r := range re.Rune {
			rs = append(rs, r, r)
		}
		return mergeRanges(rs)
	case syntax.OpAnyChar:
		return []rune{0, unicode.MaxRune}
	case syntax.OpAnyCharNotNL:
		return []rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}
	}
	return nil
}
