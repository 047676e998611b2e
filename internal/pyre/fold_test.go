package pyre

import (
	"fmt"
	"slices"
	"testing"
	"unicode"
)

// TestCaseFoldAgainstPython: under (?i), without the ASCII flag, each
// character matches exactly the characters Python's re takes it for, as a
// literal, in a class and in a negated class, for every character that
// folds to another in Python or in Go. Python takes I, i, İ and ı for one
// letter; RE2's (?i), by Unicode's simple case folding, kept İ and ı
// apart (pyFoldSets). The backtracking engine's folding is .NET's (see
// README: the approximation is documented), so the patterns here run on
// RE2.
func TestCaseFoldAgainstPython(t *testing.T) {
	python := pythonRE(t)
	script := `
import _sre, json, sys, unicodedata
try:
    from re import _casefix
    extra = _casefix._EXTRA_CASES
except ImportError:
    extra = {}
# Only characters that lower to another one make a class of more than one
# (a class is every character lowering to one key, the key among them when
# it lowers to itself); one set for each of the 1.1 M code points took
# seconds and most of this test's time.
groups = {}
for c in range(0x110000):
    lo = _sre.unicode_tolower(c)
    if lo != c:
        if lo not in groups:
            groups[lo] = {lo} if _sre.unicode_tolower(lo) == lo else set()
        groups[lo].add(c)
cls = {}
for members in groups.values():
    for m in members:
        cls[m] = set(members)
for lo, extras in extra.items():
    s = set(cls.get(lo, {lo}))
    for e in extras:
        s |= cls.get(e, {e})
    for m in s:
        cls[m] = s
print(json.dumps({"unicode": unicodedata.unidata_version, "casefix": bool(extra),
                  "cls": {str(c): sorted(s) for c, s in cls.items() if len(s) > 1}}))`
	var v struct {
		Unicode string
		Casefix bool
		Cls     map[string][]rune
	}
	runPython(t, python, script, nil, &v)
	if v.Unicode != unicode.Version || !v.Casefix {
		t.Skipf("%s has Unicode %s (Go %s), case fixes %v: the folds would differ by the versions' changes", python, v.Unicode, unicode.Version, v.Casefix)
	}
	pyClass := func(c rune) []rune {
		if s := v.Cls[fmt.Sprint(c)]; s != nil {
			return s
		}
		return []rune{c}
	}
	compared := 0
	for c := rune(0); c <= unicode.MaxRune; c++ {
		orbit := []rune{c}
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			orbit = append(orbit, f)
		}
		py := pyClass(c)
		if len(orbit) == 1 && len(py) == 1 {
			continue
		}
		probes := append(slices.Clone(orbit), py...)
		for _, form := range []struct {
			pattern string
			negated bool
		}{
			{`(?i)\U%08x`, false}, {`(?i)[\U%08x]`, false}, {`(?i)[^\U%08x]`, true}, {`(?i)[\U%08x0-1]`, false},
		} {
			p := fmt.Sprintf(form.pattern, c)
			re, err := Compile(p, 0, `^(?:`, `)$`)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for _, x := range probes {
				want := slices.Contains(py, x) != form.negated
				if got := re.MatchString(string(x)); got != want {
					t.Errorf("re.match(%s, %U): Python %v, appcfg %v", p, x, want, got)
				}
				compared++
			}
		}
	}
	t.Logf("%d pattern/character pairs agree with Python's re (%s)", compared, python)
}
