package pyre

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// python27 finds a python2.7 that runs, through pyenv's installed 2.7
// when the shim needs a version named; t is skipped, saying what to set,
// when there is none.
func python27(t *testing.T) string {
	t.Helper()
	python := os.Getenv("PYTHON27")
	if python == "" {
		python = "python2.7"
	}
	if exec.Command(python, "-c", "").Run() == nil {
		return python
	}
	if out, err := exec.Command("pyenv", "versions", "--bare").Output(); err == nil && os.Getenv("PYENV_VERSION") == "" {
		for _, v := range strings.Fields(string(out)) {
			if strings.HasPrefix(v, "2.7") {
				t.Setenv("PYENV_VERSION", v)
				if exec.Command(python, "-c", "").Run() == nil {
					return python
				}
			}
		}
	}
	t.Skipf("no python2.7 runs (set PYTHON27, or PYENV_VERSION to a 2.7): skipping the comparison with the bulkloader's Python")
	return ""
}

// TestPython27AgainstPython27: with Python27 a pattern and re.compile's
// flags mean what Python 2.7's re makes of them on a unicode subject (the
// bulkloader's reading): re.match and re.finditer agree on both engines
// (a "(?=.)" in front makes a pattern a backtracking one), and nothing
// 2.7 compiles is refused: global flags anywhere, LOCALE, UNICODE with
// 256 (no flag in 2.7), "(?L)" and "(?u)".
func TestPython27AgainstPython27(t *testing.T) {
	python := python27(t)
	var pats []pyPattern
	for _, p := range []pyPattern{
		{`\w+$`, Multiline}, {`\w+$`, 0}, {`^\w`, Multiline}, {`a.b`, DotAll}, {`ab`, IgnoreCase},
		{`\w+`, 0}, {`\w+`, Unicode}, {`\w+`, ASCII}, {`\w+`, ASCII | Unicode}, {`\w+`, Locale},
		{`\w+`, Locale | Unicode}, {`[\W]+`, 0}, {`[\W]+`, Unicode}, {`\d`, 0}, {`\d`, Unicode},
		{`[\s]`, 0}, {`\s`, Unicode}, {`\bfoo`, 0}, {`a\b`, 0}, {`a\B`, Unicode}, {`k`, IgnoreCase},
		{`k`, IgnoreCase | Unicode}, {`[a-z]+`, IgnoreCase}, {`i`, IgnoreCase | Unicode},
		{`a(?i)b`, 0}, {`a(?i)b`, IgnoreCase}, {`|(?i)a`, 0}, {`x.(?s)`, 0}, {`\w+$(?m)`, 0},
		{`\w(?u)`, 0}, {`(?u)\w`, ASCII}, {`(?L)\w`, 0}, {`(?L)\w`, Unicode}, {`\w(?L)`, Unicode},
		{`(?iu)k`, 0}, {`a b # c`, Verbose}, {`(?x) a b (?u)\w`, 0},
		// Escapes of letters 2.7 reads as the letter (Python 3 refuses
		// most, and reads \u, \U and \N as characters).
		{`\q`, 0}, {`[\q]`, 0}, {`\u0041`, 0}, {`[\A\Z]`, 0}, {`\e`, 0}, {`\z`, 0}, {`\G`, 0},
		{`\k`, 0}, {`\p{L}`, 0}, {`a\N{DIGIT ONE}`, 0}, {`\Q`, IgnoreCase}, {`[\B-\E]+`, 0},
	} {
		pats = append(pats, p)
		if p.Flags&Verbose == 0 && !strings.Contains(p.Pattern, "(?x)") {
			pats = append(pats, pyPattern{"(?=.)" + p.Pattern, p.Flags})
		}
	}
	subjects := []string{
		"ab", "AB", "aB", "a\nb", "A\nB", "ab\n\ncd", "ab\ncd", "a\n", "é", "éfoo", "foo", "aé", "k", "K", "\u212a",
		"İ", "ı", "i", "I", "٣", "\u00a0", "\x1c", "\u0085", "a1_é", "abc", "xyz", "x\n", "abé",
		"q", "u0041", "A", "Z", "e", "z", "G", "k", "p{L}", "aN{DIGIT ONE}", "BCDE",
	}
	want := pythonVerdicts(t, python, pats, subjects)
	for i, p := range pats {
		m, err := Compile(p.Pattern, p.Flags|Python27, `\A(?:`, `)`)
		a, aerr := Compile(p.Pattern, p.Flags|Python27, "", "")
		if want[i].Error != "" {
			t.Fatalf("%q, flags %d: python2.7 refuses it (%s): the list is of patterns it compiles", p.Pattern, p.Flags, want[i].Error)
		}
		if err != nil || aerr != nil {
			t.Errorf("%q, flags %d: Python 2.7 compiles it, we refuse it: %v, %v", p.Pattern, p.Flags, err, aerr)
			continue
		}
		if m.Inexact() != "" {
			continue // ASCII folding on the backtracking engine, approximated and reported
		}
		folds := p.Flags&IgnoreCase != 0 || strings.Contains(p.Pattern, "(?i")
		compareVerdicts(t, "Python 2.7", p, m, a, folds, subjects, want[i])
	}
}
