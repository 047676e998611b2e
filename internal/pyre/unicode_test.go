package pyre

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/appcfg/appcfg/internal/sdktest"
)

// TestUnicodeClassesAgainstPython compares \w, \d, \s, their negations, in
// and out of a class, and \b, \B with the SDK's Python re at every code
// point where Python's \w, \d or \s starts or stops (and next to it): the
// places where two definitions of a class can disagree. Each pattern runs
// on both engines (a "(?=.)" in front makes it a backtracking one), with
// and without the ASCII flag. Python's Unicode tables must be the
// version of Go's, or the comparison would report the versions' changes.
func TestUnicodeClassesAgainstPython(t *testing.T) {
	python, _ := sdktest.Python(t)
	base := []struct{ pattern, subject string }{
		{`\w`, "%s"}, {`\W`, "%s"}, {`\d`, "%s"}, {`\D`, "%s"}, {`\s`, "%s"}, {`\S`, "%s"},
		{`[\w]`, "%s"}, {`[\W]`, "%s"}, {`[\d]`, "%s"}, {`[\D]`, "%s"}, {`[\s]`, "%s"}, {`[\S]`, "%s"},
		{`[^\W]`, "%s"}, {`[^\S\d]`, "%s"}, {`[\W\d]`, "%s"}, {`[x\D]`, "%s"},
		{`x\b`, "x%s"}, {`x\B`, "x%s"}, {`.\b`, "%s"}, {`.\B`, "%s"}, {`\b.`, "%s"}, {`.*\bfoo`, "%sfoo"},
		{`(?P<a>.)\b`, "%s"},
	}
	type pat struct{ pattern, subject string }
	var pats []pat
	for _, b := range base {
		for _, pre := range []string{"", "(?=.)", "(?a)", "(?a)(?=.)"} {
			pats = append(pats, pat{pre + b.pattern, b.subject})
		}
	}
	in, _ := json.Marshal(map[string]any{"patterns": func() [][2]string {
		var out [][2]string
		for _, p := range pats {
			out = append(out, [2]string{p.pattern, p.subject})
		}
		return out
	}()})
	script := `
import json, re, sys, unicodedata
j = json.load(sys.stdin)
text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
probes = set(range(0x80)) | {0x10FFFF}
for cls in (r"\w", r"\d", r"\s"):
    hit = bytearray(0x110000)
    for m in re.finditer(cls, text):
        hit[ord(m.group())] = 1
    for c in range(1, 0x110000):
        if hit[c] != hit[c-1]:
            probes.update((c-2, c-1, c, c+1))
probes = sorted(c for c in probes if 0 <= c <= 0x10FFFF and not 0xD800 <= c <= 0xDFFF)
out = {"unicode": unicodedata.unidata_version, "probes": probes, "match": []}
for p, subj in j["patterns"]:
    r = re.compile(p)
    out["match"].append("".join("1" if r.match(subj.replace("%s", chr(c))) else "0" for c in probes))
print(json.dumps(out))`
	var v struct {
		Unicode string
		Probes  []rune
		Match   []string
	}
	if runPython(t, python, script, in, &v); len(v.Match) != len(pats) {
		t.Fatalf("python gave %d verdicts for %d patterns", len(v.Match), len(pats))
	}
	if v.Unicode != unicode.Version {
		t.Skipf("%s has Unicode %s, Go %s: the classes would differ by the versions' changes", python, v.Unicode, unicode.Version)
	}
	compared := 0
	for i, p := range pats {
		re, err := Compile(p.pattern, 0, `\A(?:`, `)`)
		if err != nil {
			t.Errorf("%q: %v", p.pattern, err)
			continue
		}
		bad := 0
		for j, c := range v.Probes {
			s := strings.ReplaceAll(p.subject, "%s", string(c))
			if got, want := re.MatchString(s), v.Match[i][j] == '1'; got != want {
				if bad++; bad <= 3 {
					t.Errorf("re.match(%q, %q) (U+%04X): Python %v, appcfg %v (backtracking: %v)", p.pattern, s, c, want, got, re.Backtracks())
				}
			}
			compared++
		}
		if bad > 3 {
			t.Errorf("%q: %d more code points disagree", p.pattern, bad-3)
		}
	}
	t.Logf("%d pattern/code point pairs agree with the SDK's Python re (%d code points)", compared, len(v.Probes))
}
