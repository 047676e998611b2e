package pyre

import (
	"fmt"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/sdktest"
)

func TestPythonConstructs(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{`(?!static/).*\.txt`, "notes.txt", true},
		{`(?!static/).*\.txt`, "static/a.txt", false},
		{`.*(?<!\.min)\.js`, "app.js", true},
		{`.*(?<!\.min)\.js`, "app.min.js", false},
		{`(\w+)/\1\.py`, "lib/lib.py", true},
		{`(\w+)/\1\.py`, "lib/other.py", false},
		{`(?P<d>\w+)/(?P=d)\.py`, "lib/lib.py", true},
		{`a\Z`, "a\n", false},
		{`[]a](?=b)`, "]b", true},
		// Global flags after the start apply to the whole pattern on the
		// backtracking engine too, as Python 2.7 applied them (its
		// verdicts): .NET applied them from where they stand.
		{`(?=.)A|b(?i)`, "a", true}, {`A(?=x)(?i)`, "ax", true}, {`(?=a)A|(?i)b`, "a", true},
		{`(\w)\1(?i)`, "aA", true}, {`(?=.)A|b(?i)`, "c", false},
	}
	for _, tt := range tests {
		re, err := Compile(tt.pattern, HoistGlobalFlags, `\A(?:`, `)`)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := re.MatchString(tt.s); got != tt.want {
			t.Errorf("%q on %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestSubmatch(t *testing.T) {
	re, err := Compile(`/(?!api)(\w+)`, HoistGlobalFlags, "^(?:", ")(?P<file>.*)$")
	if err != nil {
		t.Fatal(err)
	}
	g := re.FindStringSubmatch("/docs/a/b.html")
	if g == nil || g[1] != "docs" || g[re.SubexpIndex("file")] != "/a/b.html" {
		t.Errorf("groups %q", g)
	}
	if re.FindStringSubmatch("/api/x") != nil {
		t.Errorf("/api/x matched")
	}
}

// TestCompileVerdicts: Compile accepts what Python 3.12's re.compile
// accepts (the Python of gcloud 528, which compiles skip_files when it
// deploys) and refuses what it refuses. Possessive quantifiers, atomic
// groups, \N{NAME} and the ASCII flag were refused until 2026-12-04.
// TestSDKPythonVerdicts asks the SDK's Python itself.
func TestCompileVerdicts(t *testing.T) {
	for re, ok := range map[string]bool{
		`a\Z`: true, `\z`: false, `\pL`: false, `a++`: true, `(?>a)`: true, `(?x) a b`: true,
		`\u0041`: true, `\u00G1`: false, `\N{LATIN SMALL LETTER A}`: true, `(?#c)a`: true, `(a)(?(1)b|c)`: true,
		`[[:alpha:]]`: true, `a{,3}`: true, `(a)\1`: true, `\012`: true, `\e`: false, `\Q`: false,
		`(?i)a`: true, `(?a)a`: true, `(?i:a)`: true, `(?-i:a)`: true, `(foo`: false, `foo)`: false,
		`^(?!keep).*\.bak$`: true, `(?<=a)b`: true, `(?P<n>a)(?P=n)`: true, `[]a]`: true, `[^]a]`: true,
		sdkDefaultSkipFiles: true, `*a`: false, `a**`: false, `(?<n>a)`: false, `a{1001}`: true,
		`\N{NO SUCH NAME}`: false, `\N`: false, `(?L)a`: false, `(?-a:a)`: false, `(?au:a)`: false,
		`a*+b`: true, `a++?`: false, `(?a:\w)`: true, `\N{ESC}`: true,
	} {
		_, err := Compile(re, 0, `\A(?:`, `)`)
		if (err == nil) != ok {
			t.Errorf("Compile(%q) = %v, Python compiles it: %v", re, err, ok)
		}
	}
}

// TestPossessiveIsAtomic: X*+ keeps what X* took (Python 3.11), so a*+a
// never matches, where a*a would.
func TestPossessiveIsAtomic(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{`a*+a`, "aaa", false}, {`a*a`, "aaa", true}, {`a*+b`, "aab", true}, {`(?:ab)++c`, "ababc", true},
		{`(?>a|ab)c`, "abc", false}, {`(?:a|ab)c`, "abc", true}, {`\w++\.py\Z`, "x.py", true},
	} {
		re, err := Compile(tt.pattern, HoistGlobalFlags, `\A(?:`, `)`)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := re.MatchString(tt.s); got != tt.want {
			t.Errorf("%q on %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
		if re.Inexact() != "" {
			t.Errorf("%q: Inexact() = %q, want exact", tt.pattern, re.Inexact())
		}
	}
}

// TestCompileFlagsAgainstPython: re.compile's flags, given to Compile
// (as the bulkloader's transforms give them), mean what they mean to the
// SDK's Python: re.match and re.finditer agree, on both engines (a
// "(?=.)" in front makes a pattern a backtracking one); global inline
// flags are taken at the start and refused after it, as Python 3.11
// refuses them; and the flag combinations Python refuses are refused.
// The ASCII and IGNORECASE flags together on the backtracking engine are
// approximated, and Inexact must say so, whichever way they are given.
func TestCompileFlagsAgainstPython(t *testing.T) {
	python, _ := sdktest.Python(t)
	var pats []pyPattern
	for _, p := range []pyPattern{
		{`\w+$`, Multiline}, {`\w+$`, 0}, {`^\w`, Multiline}, {`(?m)\w+$`, 0}, {`a$`, Multiline},
		{`a.b`, DotAll}, {`a.b`, 0}, {`(?s)a.b`, 0}, {`ab`, IgnoreCase}, {`(?i)ab`, 0}, {`(?i)ab`, IgnoreCase},
		{`(?-i:a)b`, IgnoreCase}, {`(?s)(?i)a.b`, 0}, {`(?#c)(?i)a`, 0}, {`(?i)(?#c)(?m)a$`, 0},
		{`\w+`, ASCII}, {`[\W]+`, ASCII}, {`\d`, ASCII}, {`[\s]`, ASCII}, {`k`, ASCII | IgnoreCase},
		{`(?a)k`, IgnoreCase}, {`(?i)k`, ASCII}, {`[a-z]+`, ASCII | IgnoreCase}, {`i`, IgnoreCase},
		{`\w`, Unicode}, {`a b # c`, Verbose}, {`\bfoo`, ASCII}, {`(a$)`, 0}, {`x(?P<n>.*)$`, 0},
		// refused by Python
		{`a(?i)b`, 0}, {`a(?i)b`, IgnoreCase}, {`|(?i)a`, 0}, {`(?:(?i)a)`, 0}, {`^(?i)a`, 0},
		{`(?=.)(?i)a`, 0}, {`a\1(?i)`, 0}, {`\w`, ASCII | Unicode}, {`(?u)\w`, ASCII}, {`a`, Locale}, {`(?L)a`, 0}, {`a(?L)`, 0},
	} {
		pats = append(pats, p)
		if p.Flags&Verbose == 0 {
			pats = append(pats, pyPattern{"(?=.)" + p.Pattern, p.Flags})
		}
	}
	subjects := []string{
		"ab", "AB", "aB", "a\nb", "A\nB", "ab\n\ncd", "ab\ncd", "a\n", "é", "éfoo", "foo", "k", "K", "\u212a",
		"İ", "ı", "i", "I", "٣", "\u00a0", "\x1c", "a1_é", "ſ", "abc", "xyz", "xa\n",
	}
	want := pythonVerdicts(t, python, pats, subjects)
	for i, p := range pats {
		m, err := Compile(p.Pattern, p.Flags, `\A(?:`, `)`)
		a, aerr := Compile(p.Pattern, p.Flags, "", "")
		if want[i].Error != "" {
			if err == nil || aerr == nil {
				t.Errorf("%q, flags %d: Python refuses it (%s), we compile it", p.Pattern, p.Flags, want[i].Error)
			}
			continue
		}
		if err != nil || aerr != nil {
			t.Errorf("%q, flags %d: Python compiles it, we refuse it: %v, %v", p.Pattern, p.Flags, err, aerr)
			continue
		}
		folds := p.Flags&IgnoreCase != 0 || strings.Contains(p.Pattern, "i)")
		ascii := p.Flags&ASCII != 0 || strings.Contains(p.Pattern, "(?a")
		if wantNote := m.Backtracks() && folds && ascii; (m.Inexact() != "") != wantNote {
			t.Errorf("%q, flags %d: Inexact() = %q, want a note: %v", p.Pattern, p.Flags, m.Inexact(), wantNote)
		}
		if m.Inexact() != "" {
			continue
		}
		compareVerdicts(t, "Python", p, m, a, folds, subjects, want[i])
	}
}

// compareVerdicts compares m (anchored) and a (unanchored), p compiled,
// with python's re.match and re.finditer over subjects; with folds, on
// the backtracking engine, only for ASCII subjects: .NET's folding is a
// documented approximation (README).
func compareVerdicts(t *testing.T, python string, p pyPattern, m, a *Regexp, folds bool, subjects []string, want pyVerdict) {
	t.Helper()
	for j, s := range subjects {
		if m.Backtracks() && folds && !isASCII(s) {
			continue
		}
		if got := m.MatchString(s); got != want.Match[j] {
			t.Errorf("re.match(%q, %q, %d): %s %v, appcfg %v (backtracking: %v)", p.Pattern, s, p.Flags, python, want.Match[j], got, m.Backtracks())
		}
		var all []string
		for _, g := range a.FindAllStringSubmatch(s, -1) {
			all = append(all, g[0])
		}
		if fmt.Sprint(all) != fmt.Sprint(want.All[j]) {
			t.Errorf("re.finditer(%q, %q, %d): %s %q, appcfg %q (backtracking: %v)", p.Pattern, s, p.Flags, python, want.All[j], all, a.Backtracks())
		}
	}
}
