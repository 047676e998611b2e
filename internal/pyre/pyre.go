package pyre

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2"
)

// matchTimeout bounds one backtracking match: such an engine can take
// exponential time on a hostile pattern, and a deploy must not hang on one
// path.
const matchTimeout = time.Second

// Regexp is a compiled Python pattern: Go's regexp (with the DFA for
// anchored matches) when the translation is exact, else the backtracking
// engine. It is safe for concurrent use.
type Regexp struct {
	// re is the exact translation, compiled on first use (nil with bt):
	// MatchString mostly runs on the DFA, and compiling for regexp (its
	// one-pass analysis above all) cost milliseconds for the SDK's
	// [\w.]{1,32}, on every command that reads an app.yaml.
	re  func() *regexp.Regexp
	dfa *lazyDFA // MatchString's fast path over re; nil when it does not apply
	// bt is set for patterns RE2 cannot run, and beside re for those
	// whose translation is exact on ASCII inputs only (a Unicode \b):
	// re then answers for ASCII inputs, bt for the others.
	bt *regexp2.Regexp
	// names is the number of each named group of bt, numbered as
	// Python numbers them (dotNetGroups).
	names map[string]int
	// newlineBT, for a pattern whose "$" re takes a final newline into
	// the match (translation.finalNewline), finds in a subject that ends
	// with one: the backtracking engine's "$" stops before it, as
	// Python's does. Compiled on first use; nil when not needed.
	newlineBT func() *regexp2.Regexp
	// inexact says how matching differs from Python's, "" when it does not.
	inexact string
}

// Flags are re.compile's flags, with the values Python gives them
// (re.IGNORECASE is 2 …), so a flags argument a user wrote passes as it
// is. Compile ignores the bits it does not name, as re.compile does.
type Flags uint32

const (
	// Template is re.TEMPLATE (re.T), which Python 2.7 and Python 3
	// before 3.13 accept: sre then refuses every repetition ("internal:
	// unsupported template operator"); a pattern without one matches as
	// without the flag. Compile refuses the repetitions the same way.
	Template   Flags = 1
	IgnoreCase Flags = 2  // re.I
	Locale     Flags = 4  // re.L: refused, as Python 3 refuses it for a str pattern; ASCII with Python27
	Multiline  Flags = 8  // re.M
	DotAll     Flags = 16 // re.S
	Unicode    Flags = 32 // re.U: already the meaning of a str pattern; with Python27 it lifts the ASCII default
	Verbose    Flags = 64 // re.X: run by the backtracking engine
	// Debug is re.DEBUG: Python prints the parsed pattern on stdout and
	// compiles it as without the flag; Compile ignores it (printing is
	// its caller's, which says it printed nothing).
	Debug Flags = 128
	ASCII Flags = 256 // re.A
	// HoistGlobalFlags is appcfg's, not Python's: inline global flags
	// after the start of the pattern ("a|(?i)b") apply to the whole of
	// it, as Python before 3.11 applied them (the 2.7 SDK's appcfg.py,
	// which joins skip_files with "|"). Without it they are Python
	// 3.11's error, "global flags not at the start of the expression".
	HoistGlobalFlags Flags = 1 << 31
	// Python27 is appcfg's too: the pattern and flags are read as Python
	// 2.7's re reads a pattern on a unicode subject (the SDK's
	// bulkloader, which appcfg.py runs on 2.7): global flags apply to the
	// whole pattern wherever they stand (HoistGlobalFlags); \d, \w, \s,
	// \b and IGNORECASE are ASCII's unless UNICODE (re.U, "(?u)") is set;
	// LOCALE (re.L, "(?L)") is the C locale's, which is ASCII's, and wins
	// over UNICODE as it does in 2.7's sre; 256 (Python 3's re.ASCII) is
	// no flag in 2.7 and the default it would ask for; an escaped letter
	// 2.7 gives no meaning is the letter (py27Literal: "\q", "\u"). Nothing
	// 2.7 accepts for these is refused.
	Python27 Flags = 1 << 30
)

// python27 resolves the Python27 reading into the flags the translators
// apply: ASCII or not, the UNICODE and LOCALE letters of the pattern
// consumed here (the translators skip them under Python27).
func (f Flags) python27(pattern string) Flags {
	if f&Python27 == 0 {
		return f
	}
	inline := globalFlags(pattern)
	unicode := f&Unicode != 0 || strings.ContainsRune(inline, 'u')
	locale := f&Locale != 0 || strings.ContainsRune(inline, 'L')
	f = f&^(Locale|Unicode|ASCII) | HoistGlobalFlags
	if locale || !unicode {
		f |= ASCII
	}
	return f
}

// check refuses the flag combinations re.compile refuses.
func (f Flags) check() error {
	switch {
	case f&Locale != 0:
		return errors.New("cannot use LOCALE flag with a str pattern")
	case f&ASCII != 0 && f&Unicode != 0:
		return errors.New("ASCII and UNICODE flags are incompatible")
	}
	return nil
}

// Compile compiles the Python pattern with re.compile's flags, between
// prefix and suffix, which are written in the syntax both engines read
// alike and hold no flags (`\A(?:` and `)` for re.match, `^(?:` and `)$`,
// `(?P<name>.*)`): the flags and the pattern's global inline flags apply
// to the whole, as in Python. The error is Python's refusal (a bad
// escape, an unbalanced group …), or an *UnsupportedError (wrapped) for
// a construct neither engine can run.
func Compile(pattern string, flags Flags, prefix, suffix string) (*Regexp, error) {
	flags = flags.python27(pattern)
	if strings.Contains(pattern, "(?") && strings.ContainsRune(globalFlags(pattern), 't') {
		flags |= Template // "(?t)", re.TEMPLATE's inline spelling
	}
	if err := flags.check(); err != nil {
		return nil, err
	}
	tr, err := translate(pattern, flags)
	if err == nil {
		expr := tr.flags + prefix + tr.body + suffix
		// Parsing finds every error regexp.Compile would.
		parsed, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			return nil, err
		}
		r := &Regexp{re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) }), dfa: newLazyDFA(parsed)}
		if tr.asciiOnly {
			// Non-ASCII inputs run on bt, whose approximation applies.
			if r.bt, r.names, r.inexact, err = compileDotNet(pattern, flags, prefix, suffix); err != nil {
				return nil, err
			}
		}
		if tr.finalNewline && r.bt == nil {
			r.newlineBT = sync.OnceValue(func() *regexp2.Regexp {
				bt, _, _, err := compileDotNet(pattern, flags, prefix, suffix)
				if err != nil {
					return nil // re's answer, the newline taken, is the one left
				}
				return bt
			})
		}
		return r, nil
	}
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		return nil, err
	}
	bt, names, inexact, berr := compileDotNet(pattern, flags, prefix, suffix)
	if berr != nil {
		var derr dotNetError
		if errors.As(berr, &derr) {
			return nil, fmt.Errorf("%w (%v)", err, derr.err)
		}
		return nil, berr
	}
	return &Regexp{bt: bt, names: names, inexact: inexact}, nil
}

// dotNetError is regexp2's refusal of a rewritten pattern.
type dotNetError struct{ err error }

func (e dotNetError) Error() string { return e.err.Error() }

// dotNetOptions are regexp2's options for re.compile's flags; the ASCII
// flag is toDotNet's to apply.
var dotNetOptions = []struct {
	flag Flags
	opt  regexp2.RegexOptions
}{
	{IgnoreCase, regexp2.IgnoreCase}, {Multiline, regexp2.Multiline},
	{DotAll, regexp2.Singleline}, {Verbose, regexp2.IgnorePatternWhitespace},
}

// compileDotNet compiles the pattern between prefix and suffix for the
// backtracking engine, with Inexact's note.
// Its groups are numbered as Python numbers them (dotNetGroups), in the
// order prefix, pattern, suffix; names holds the named ones' numbers.
func compileDotNet(pattern string, flags Flags, prefix, suffix string) (bt *regexp2.Regexp, names map[string]int, inexact string, err error) {
	var g dotNetGroups
	pre, _, _ := toDotNet(prefix, HoistGlobalFlags, &g)
	body, inexact, err := toDotNet(pattern, flags, &g)
	if err != nil {
		return nil, nil, "", err
	}
	suf, _, _ := toDotNet(suffix, HoistGlobalFlags, &g)
	opts := regexp2.None
	for _, o := range dotNetOptions {
		if flags&o.flag != 0 {
			opts |= o.opt
		}
	}
	bt, err = regexp2.Compile(pre+body+suf, opts)
	if err != nil {
		return nil, nil, "", dotNetError{err}
	}
	bt.MatchTimeout = matchTimeout
	return bt, g.names, inexact, nil
}

// backtrack reports whether s is matched by the backtracking engine.
func (r *Regexp) backtrack(s string) bool {
	return r.re == nil || r.bt != nil && !isASCII(s)
}

// Inexact says how this pattern's matching differs from Python's, for a
// warning; "" when it matches as Python does. Only the ASCII flag's rare
// combinations are approximated.
func (r *Regexp) Inexact() string { return r.inexact }

// Backtracks reports whether the pattern needs the backtracking engine
// (for some inputs).
func (r *Regexp) Backtracks() bool { return r.bt != nil }

// MatchString reports whether s matches; a backtracking match that runs
// out of time counts as no match.
func (r *Regexp) MatchString(s string) bool {
	if r.backtrack(s) {
		ok, err := r.bt.MatchString(s)
		return ok && err == nil
	}
	if r.dfa != nil {
		if ok, done := r.dfa.match(s); done {
			return ok
		}
	}
	return r.re().MatchString(s)
}

// finder is the backtracking engine that finds in s, nil for re: bt
// where it answers, and newlineBT for a subject ending in a newline.
func (r *Regexp) finder(s string) *regexp2.Regexp {
	switch {
	case r.backtrack(s):
		return r.bt
	case r.newlineBT != nil && strings.HasSuffix(s, "\n"):
		return r.newlineBT()
	}
	return nil
}

// FindStringSubmatch is regexp.Regexp's: the leftmost match and its groups
// by number, "" for a group that took no part; nil when s does not match.
func (r *Regexp) FindStringSubmatch(s string) []string {
	bt := r.finder(s)
	if bt == nil {
		return r.re().FindStringSubmatch(s)
	}
	m, err := bt.FindStringMatch(s)
	if err != nil || m == nil {
		return nil
	}
	return groups(bt, m)
}

// FindAllStringSubmatch is regexp.Regexp's with n < 0: every successive
// non-overlapping match, as Python's findall and finditer walk them.
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	bt := r.finder(s)
	if bt == nil {
		return r.re().FindAllStringSubmatch(s, n)
	}
	var out [][]string
	m, err := bt.FindStringMatch(s)
	for err == nil && m != nil && (n < 0 || len(out) < n) {
		out = append(out, groups(bt, m))
		m, err = bt.FindNextMatch(m)
	}
	return out
}

// groups are m's groups by number, as Python numbers them.
func groups(bt *regexp2.Regexp, m *regexp2.Match) []string {
	nums := bt.GetGroupNumbers()
	top := 0
	for _, n := range nums {
		top = max(top, n)
	}
	out := make([]string, top+1)
	for _, n := range nums {
		if g := m.GroupByNumber(n); g != nil && len(g.Captures) > 0 {
			out[n] = g.String()
		}
	}
	return out
}

// NumSubexp is the number of groups.
func (r *Regexp) NumSubexp() int {
	if r.re != nil {
		return r.re().NumSubexp()
	}
	n := 0
	for _, g := range r.bt.GetGroupNumbers() {
		n = max(n, g)
	}
	return n
}

// SubexpIndex is the number of the group with that name, -1 when none.
func (r *Regexp) SubexpIndex(name string) int {
	if r.re != nil {
		return r.re().SubexpIndex(name)
	}
	if n, ok := r.names[name]; ok {
		return n
	}
	return -1
}
