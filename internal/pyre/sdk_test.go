package pyre

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/sdktest"
)

// TestSDKPythonVerdicts compares Compile with the re module of the Python
// the Cloud SDK bundles (3.12 in gcloud 528), which compiles skip_files
// and the other RegexStr fields when gcloud deploys: every pattern it
// accepts compiles here, every one it refuses is refused, and re.match
// agrees path by path, except where Inexact says how appcfg differs.
// Possessive quantifiers, atomic groups, \N{NAME} and the ASCII flag are
// what earlier rounds refused.
func TestSDKPythonVerdicts(t *testing.T) {
	python, _ := sdktest.Python(t)
	patterns := []string{
		// possessive quantifiers and atomic groups: the backtracking engine
		`a++`, `a*+b`, `a*+a`, `(?:ab)++c`, `x?+x`, `a{1,3}+a`, `a{,2}+b`, `(?>a+)a`, `(?>a|ab)c`,
		`\w++\.py$`, `[ab]*+b`, `(a|b)*+c`, `\N{LATIN SMALL LETTER A}*+`, `a*?+`, `a++?`,
		// \N{NAME}: names, aliases, computed names, letter case, errors
		`\N{LATIN SMALL LETTER A}+`, `[\N{DIGIT ONE}-\N{DIGIT THREE}]+$`, `\N{ESC}`, `\N{ESCAPE}`,
		`\N{BYTE ORDER MARK}`, `\N{CJK UNIFIED IDEOGRAPH-4E00}`, `\N{HANGUL SYLLABLE GAG}`,
		`\N{latin small letter e with acute}`, `\N{GRINNING FACE}`, `\N{FULL STOP}`, `\N{NOSUCH}`,
		`\N{}`, `\N`, `\N{LATIN`, `\N{KEYCAP NUMBER SIGN}`, `\N{cjk unified ideograph-4e00}`,
		`\N{CJK UNIFIED IDEOGRAPH-4e00}`, `\N{hangul syllable gag}`, `\N{HANGUL SYLLABLE GAGX}`,
		`\N{TANGUT IDEOGRAPH-17000}`, `\N{LATIN CAPITAL LETTER GHA}`,
		// the ASCII flag, global and scoped, in and out of classes
		`(?a)\w+$`, `(?a:\d)+x?`, `(?a)[\W]+$`, `(?a)\s`, `(?a)[\S]+$`, `(?a)\bfoo`, `(?a)[\d\s]+$`,
		`\w(?a:\w)\w`, `(?a)(?u)x`, `(?a-i:x)`, `(?-a:x)`, `(?L)a`, `(?au)x`, `(?a)[^\D]+$`,
		// with the backtracking engine
		`(?=a)\N{LATIN SMALL LETTER A}`, `(?=x)a++`, `(?<=a)b{,2}`, `(?=.)\U0001F600`, `(a)\1++`,
		`(?P<n>a)(?P=n)++b`, `(?#c)a++`, `(?=a)[\N{DIGIT ONE}a]+$`, `a*+{2}`, `a?++`,
		// the ASCII and IGNORECASE flags together: ASCII letters fold only
		`(?ai)k`, `(?i)(?a)é`, `(?a:(?i:s))`, `(?ai)[k]`, `(?ai)[^k]`, `(?ai)[a-z]+$`, `(?ai)[^a-z]`,
		`(?ai)\w`, `(?ai)\W`, `(?ai)[\W]`, `(?ai)[\w]`, `(?ai)\x4b`, `(?ai)\N{KELVIN SIGN}`,
		`(?ai)[\N{KELVIN SIGN}]`, `(?ai)[é]`, `(?ai)ſ`, `(?ai)[Z-a]+$`, `(?ai)[\u0100-\U00010000]`,
		`(?ai)[\U00010400-\U00010400]`, `(?a)(?i:k)`, `(?ai)(?-i:k)`, `(?i)(?a:k)x?`,
		`(?ai)[^\x00-\U0010ffff]`, `(?ai)[\x00-\U0010ffff]`, `(?ai)\113`, `(?ai)[\x41-\x43]+$`,
		`(?ai)[^\d]`, `(?ai)İ`, `(?ai)i`, `(?ai)[^\W\d]`, `(?ai)\S`, `(?ai)[.]`, `(?ai)(k|s)+$`,
		// approximated, with a note (Inexact)
		`(?ai)(?=.)k`,
		// the ASCII flag with the backtracking engine
		`(?a)(?!b)\w+$`, `(?a)(?=.)[\W]+$`, `(?a)(?=.)\bfoo`, `(?a)(?=.)[\S]+$`, `(?a)(?=.)[\D]+$`,
		`(?=.)(?a:\d)+x?`, `(?=a)a\Z`, `(?=.)\w(?a:\w)\w`, `(?a)(?=.)\s`, `(?a)(?=.)[^\D]+$`, `(?a)(?=.)a\B`,
	}
	paths := []string{
		"", "a", "aa", "aaa", "aab", "ab", "abc", "abababc", "ababc", "x", "xx", "xxx", "1", "2", "4",
		"123", "\x1b", "\ufeff", "一", "각", "é", "É", "K", "k", "\u212a", "foo.py", "café.py", "٣", "x٣",
		"a b", " ", "\u00a0", "\x0b", "\t", "foo", "afoo", "éfoo", "b", "bb", "abb", "aabb", "😀", ".",
		"aaab", "aac", "abbc", "bac", "!", "a1", "1a", "1 2", "_", "x_1", "ab1", "a\n", "ébc",
		"ſ", "s", "S", "İ", "i", "I", "ı", "Z", "[", "`", "A", "ÿ", "Ÿ", "\U00010428", "\U00010400", "Ā",
		"ā", "X", "kK\u212a", "Ks", "ABC", "abc", "Z[a", "ſk",
	}
	want := pythonMatches(t, python, patterns, paths)
	compared := 0
	inexact := map[string]bool{`(?ai)(?=.)k`: true}
	for i, p := range patterns {
		re, err := Compile(p, 0, `\A(?:`, `)`)
		if want[i].Error != "" {
			if err == nil {
				t.Errorf("%q: Python refuses it (%s), we compile it", p, want[i].Error)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: Python compiles it, we refuse it: %v", p, err)
			continue
		}
		if (re.Inexact() != "") != inexact[p] {
			t.Errorf("%q: Inexact() = %q, want a note: %v", p, re.Inexact(), inexact[p])
		}
		if re.Inexact() != "" {
			t.Logf("%q: approximated, by design: %s", p, re.Inexact())
			continue
		}
		for j, s := range paths {
			if got := re.MatchString(s); got != want[i].Match[j] {
				t.Errorf("re.match(%q, %q): Python %v, appcfg %v (backtracking: %v)", p, s, want[i].Match[j], got, re.Backtracks())
			}
			compared++
		}
	}
	t.Logf("%d pattern/path pairs agree with the SDK's Python re", compared)
}

// pyVerdict is Python's verdict on one pattern: the error re.compile
// raised, else re.match's answer for each path and what re.finditer
// finds in it (each match's group 0).
type pyVerdict struct {
	Error string     `json:"error"`
	Match []bool     `json:"match"`
	All   [][]string `json:"all"`
}

// pyPattern is a pattern with re.compile's flags.
type pyPattern struct {
	Pattern string `json:"pattern"`
	Flags   Flags  `json:"flags"`
}

// pythonMatches asks python's re for its verdict on each pattern, over
// every path.
func pythonMatches(t *testing.T, python string, patterns, paths []string) []pyVerdict {
	t.Helper()
	pats := make([]pyPattern, len(patterns))
	for i, p := range patterns {
		pats[i].Pattern = p
	}
	return pythonVerdicts(t, python, pats, paths)
}

// pythonVerdicts asks python's re for its verdict on each pattern with
// its flags, over every path.
func pythonVerdicts(t *testing.T, python string, patterns []pyPattern, paths []string) []pyVerdict {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"patterns": patterns, "paths": paths})
	script := `
import json, re, sys, warnings
warnings.simplefilter("ignore")
j = json.load(sys.stdin)
out = []
for p in j["patterns"]:
    try:
        r = re.compile(p["pattern"], p["flags"])
    except Exception as e:  # re.error, or ValueError for (?a) with (?u)
        out.append({"error": str(e) or type(e).__name__}); continue
    out.append({"match": [bool(r.match(s)) for s in j["paths"]],
                "all": [[m.group(0) for m in r.finditer(s)] for s in j["paths"]]})
print(json.dumps(out))`
	var v []pyVerdict
	out := runPython(t, python, script, in, &v)
	if len(v) != len(patterns) {
		t.Fatalf("python output (%d verdicts for %d patterns):\n%s", len(v), len(patterns), out)
	}
	return v
}

// runPython runs script with the JSON in on its stdin and decodes the JSON
// it prints into v; it returns what it printed.
func runPython(t *testing.T, python, script string, in []byte, v any) []byte {
	t.Helper()
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", python, err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	return out
}
