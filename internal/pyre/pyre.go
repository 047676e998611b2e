// Package pyre runs Python regular expressions that Go's RE2 engine cannot
// (look-around, back-references, conditionals): app.yaml's skip_files and
// handler urls are Python patterns, and a real app that uses one must
// select the files and route the requests Python's re does. The patterns
// RE2 can run keep their fast paths; this backtracking engine
// (github.com/dlclark/regexp2 in its default, .NET-compatible syntax,
// neither RE2 nor ECMAScript mode) takes only the rest.
package pyre

import (
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// matchTimeout bounds one match: a backtracking engine can take exponential
// time on a hostile pattern, and a deploy must not hang on one path.
const matchTimeout = time.Second

// Regexp is a compiled Python pattern, run by backtracking.
type Regexp struct {
	re *regexp2.Regexp
}

// Compile compiles the Python pattern between prefix and suffix (Go/RE2
// syntax such as `\A(?:` and `)`, or `^(?:` and `)(?P<file>.*)$`).
func Compile(pattern, prefix, suffix string) (*Regexp, error) {
	re, err := regexp2.Compile(toDotNet(prefix)+toDotNet(pattern)+toDotNet(suffix), regexp2.None)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = matchTimeout
	return &Regexp{re: re}, nil
}

// MatchString reports whether s matches; a match that runs out of time
// counts as no match.
func (r *Regexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return ok && err == nil
}

// FindStringSubmatch is regexp.Regexp's: the match and its groups by
// number, "" for a group that took no part; nil when s does not match.
func (r *Regexp) FindStringSubmatch(s string) []string {
	m, err := r.re.FindStringMatch(s)
	if err != nil || m == nil {
		return nil
	}
	nums := r.re.GetGroupNumbers()
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

// SubexpIndex is the number of the group with that name, -1 when none.
func (r *Regexp) SubexpIndex(name string) int {
	return r.re.GroupNumberFromName(name)
}

// toDotNet rewrites the Python (and Go) spellings .NET syntax lacks:
// (?P<name>…) is (?<name>…), (?P=name) is \k<name>, and Python's \Z (the
// very end) is .NET's \z. Escapes and character classes are copied as they
// are.
func toDotNet(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			if p[i+1] == 'Z' && !inClass {
				b.WriteString(`\z`)
			} else {
				b.WriteString(p[i : i+2])
			}
			i++
			continue
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// a ']' right after '[' or '[^' is a literal
			if j := i + 1; j < len(p) && p[j] == '^' {
				b.WriteString("[^")
				i = j
			} else {
				b.WriteByte('[')
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
			continue
		case strings.HasPrefix(p[i:], "(?P<"):
			b.WriteString("(?<")
			i += len("(?P<") - 1
			continue
		case strings.HasPrefix(p[i:], "(?P="):
			if end := strings.IndexByte(p[i:], ')'); end > 0 {
				b.WriteString(`\k<` + p[i+len("(?P="):i+end] + `>`)
				i += end
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
