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
	// inexact says how matching differs from Python's, "" when it does not.
	inexact string
}

// Compile compiles the Python pattern between prefix and suffix, which
// are written in the syntax both engines read alike (`\A(?:` and `)` for
// re.match, `^(?:` and `)$`, `(?i)`, `(?P<name>.*)`). The pattern's global
// inline flags apply to the whole, as in Python. The error is Python's
// refusal (a bad escape, an unbalanced group …), or an *UnsupportedError
// (wrapped) for a construct neither engine can run.
func Compile(pattern, prefix, suffix string) (*Regexp, error) {
	tr, err := translate(pattern, prefixFolds(prefix))
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
			if r.bt, r.names, r.inexact, err = compileDotNet(pattern, prefix, suffix); err != nil {
				return nil, err
			}
		}
		return r, nil
	}
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		return nil, err
	}
	bt, names, inexact, berr := compileDotNet(pattern, prefix, suffix)
	if berr != nil {
		var derr dotNetError
		if errors.As(berr, &derr) {
			return nil, fmt.Errorf("%w (%v)", err, derr.err)
		}
		return nil, berr
	}
	return &Regexp{bt: bt, names: names, inexact: inexact}, nil
}

// prefixFolds reports whether prefix starts with global flags that set
// IGNORECASE ("(?i)", "(?is)"), as re.IGNORECASE arrives.
func prefixFolds(prefix string) bool {
	flags, _, ok := strings.Cut(strings.TrimPrefix(prefix, "(?"), ")")
	return ok && strings.HasPrefix(prefix, "(?") && strings.Trim(flags, "ims") == "" && strings.Contains(flags, "i")
}

// dotNetError is regexp2's refusal of a rewritten pattern.
type dotNetError struct{ err error }

func (e dotNetError) Error() string { return e.err.Error() }

// compileDotNet compiles the pattern between prefix and suffix for the
// backtracking engine, with Inexact's note.
// Its groups are numbered as Python numbers them (dotNetGroups), in the
// order prefix, pattern, suffix; names holds the named ones' numbers.
func compileDotNet(pattern, prefix, suffix string) (bt *regexp2.Regexp, names map[string]int, inexact string, err error) {
	var g dotNetGroups
	pre, _, _ := toDotNet(prefix, &g)
	body, inexact, err := toDotNet(pattern, &g)
	if err != nil {
		return nil, nil, "", err
	}
	suf, _, _ := toDotNet(suffix, &g)
	bt, err = regexp2.Compile(pre+body+suf, regexp2.None)
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

// FindStringSubmatch is regexp.Regexp's: the leftmost match and its groups
// by number, "" for a group that took no part; nil when s does not match.
func (r *Regexp) FindStringSubmatch(s string) []string {
	if !r.backtrack(s) {
		return r.re().FindStringSubmatch(s)
	}
	m, err := r.bt.FindStringMatch(s)
	if err != nil || m == nil {
		return nil
	}
	return r.groups(m)
}

// FindAllStringSubmatch is regexp.Regexp's with n < 0: every successive
// non-overlapping match, as Python's findall and finditer walk them.
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	if !r.backtrack(s) {
		return r.re().FindAllStringSubmatch(s, n)
	}
	var out [][]string
	m, err := r.bt.FindStringMatch(s)
	for err == nil && m != nil && (n < 0 || len(out) < n) {
		out = append(out, r.groups(m))
		m, err = r.bt.FindNextMatch(m)
	}
	return out
}

func (r *Regexp) groups(m *regexp2.Match) []string {
	nums := r.bt.GetGroupNumbers()
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
