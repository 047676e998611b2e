package pyre

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`^(.*/)?\.git$`, `^(.*/)?\.git(?:\n?$)`},
		{`(?P<dir>static)/.*\Z`, `(?P<dir>static)/.*\z`},
		{`a{,3}`, `a{0,3}`},
		{`a{2}b{1,}`, `a{2}b{1,}`},
		{`x{y}`, `x\{y\}`},
		{`[[:alpha:]]`, `[\[:alpha:]]`},
		{`[]x]`, `[\]x]`},
		{`foo(?#a comment)bar`, `foobar`},
		{`(?i)readme`, `(?i)readme`},
		{`readme|(?i)license`, `(?i)readme|l[Iiİı]cense`}, // Python's (?i) takes İ and ı for i
		{`(?i)[a-c][h-j][^i]`, `(?i)[a-c][h-jIiİı][^iIiİı]`},
		{`(?m)^a$`, `(?m)^a$`},
		{`\d+\.txt`, `\p{Nd}+\.txt`},
		{`[\w-]+`, `[\p{L}\p{N}_-]+`},
		{`\x41\u00e9\101\0`, `\x{41}\x{e9}\x{41}\x{0}`},
		{`a\/b\-c`, `a\/b\-c`},
		{`[\-.]`, `[\-.]`},
		{`a{,}`, `a{0,}`},
		{`(?i:a)b`, `(?i:a)b`},
		{`.*?~`, `.*?~`},
	}
	for _, tt := range tests {
		got, err := Translate(tt.in)
		if err != nil {
			t.Errorf("Translate(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Translate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTranslateUnsupported(t *testing.T) {
	tests := []struct {
		in, construct, what string
	}{
		{`^(?!static/)`, "(?!", "negative look-ahead"},
		{`foo(?=bar)`, "(?=", "look-ahead"},
		{`(?<=a)b`, "(?<=", "look-behind"},
		{`(?<!a)b`, "(?<!", "negative look-behind"},
		{`(a)\1`, `\1`, "back-reference"},
		{`(?P<x>a)(?P=x)`, "(?P=x)", "named back-reference"},
		{`(a)?(?(1)b|c)`, "(?(", "conditional group"},
		{`(?>a+)`, "(?>", "atomic group"},
		{`a*+`, "+", "possessive quantifier"},
		{`(?x) a b`, "(?x)", "verbose flag"},
	}
	for _, tt := range tests {
		_, err := Translate(tt.in)
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("Translate(%q) error = %v, want an UnsupportedError", tt.in, err)
			continue
		}
		if ue.Construct != tt.construct || ue.What != tt.what {
			t.Errorf("Translate(%q): construct %q (%s), want %q (%s)", tt.in, ue.Construct, ue.What, tt.construct, tt.what)
		}
		if !strings.Contains(err.Error(), tt.construct) {
			t.Errorf("message %q does not name %q", err, tt.construct)
		}
	}
}

// TestPythonRegexOracle runs the same patterns through Python's re.match
// and our translation, over paths chosen to tell the dialects apart.
func TestPythonRegexOracle(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; skipping the comparison with Python's re")
	}
	patterns := []string{
		sdkDefaultSkipFiles,
		`^(.*/)?\.git$`, `static/.*\Z`, `(?P<d>lib)/(?P=d)?x`, `^a{,2}b`, `x{y}`, `[[:alpha:]]+`,
		`[]x]+$`, `(?i)readme`, `readme|(?i)license`, `\d+\.txt$`, `[\w-]+\.py$`, `\x61\101\0?`,
		`.*?~$`, `^(.*/)?#.*#$`, `^tests/`, `.*\.(pyc|pyo)$`, `^(?:a|b)/c`, `caf\u00e9`, `\w+$`,
		`^\s*x`, `^[^/]*$`, `.*/RCS/.*`, `node_modules`, `^(.*/)?[Tt]humbs\.db$`, `(?s).*\n`, `a$`,
		`^$`, `^\\`, `\bfoo\b`, `^[a-c\d]+$`, `(?i:A)b`, `^[\-.]+$`, `a{,}b`, `^[^]x]`, `a{1,2,3}`,
	}
	paths := []string{
		"", "a", "b", "ab", "aab", "aaab", "README", "ReadMe.md", "LICENSE", "license.txt", ".git", "x/.git",
		".gitignore", "static/x.css", "static/", "lib/libx", "lib/x", "x{y}", "abc", "]x", "]x]", "123.txt",
		"a1.txt", "my-file.py", "aA\x00", "a", "foo~", "dir/#tmp#", "#tmp#", "tests/test_a.py", "x.pyc",
		"y/z.pyo", "a/c", "b/c", "c/c", "café", "cafe", "naïve", "×", "١٢٣", "  x", "x", "dir/RCS/f",
		"node_modules/a", "Thumbs.db", "d/thumbs.db", "a\n", "x\ny", `\back`, "foo bar", "foobar",
		"cc12", "Ab", "ab", "emoji😀", "a/b/c/d.py", "-.-", "a{1,2,3}", "]", "x]",
	}
	verdicts := pythonMatches(t, py, patterns, paths)
	want := make([][]bool, len(verdicts))
	for i, v := range verdicts {
		want[i] = v.Match // nil when Python refuses the pattern
	}
	compared := 0
	for i, p := range patterns {
		pm, err := Compile(p, HoistGlobalFlags, `\A(?:`, `)`)
		if want[i] == nil {
			if err == nil {
				t.Logf("%q: Python refuses it (a newer Python's rule), we compile it", p)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: Python compiles it, we fail: %v", p, err)
			continue
		}
		for j, s := range paths {
			if pm.re == nil {
				if got := pm.MatchString(s); got != want[i][j] {
					t.Errorf("re.match(%q, %q): Python %v, backtracking %v", p, s, want[i][j], got)
				}
				compared++
				continue
			}
			if got := pm.re().MatchString(s); got != want[i][j] {
				t.Errorf("re.match(%q, %q): Python %v, Go regexp %v", p, s, want[i][j], got)
			}
			// Twice: the second run goes through the cached DFA states.
			for range 2 {
				if got := pm.MatchString(s); got != want[i][j] {
					t.Errorf("re.match(%q, %q): Python %v, our DFA %v", p, s, want[i][j], got)
				}
			}
			compared++
		}
	}
	t.Logf("%d pattern/path pairs agree with Python's re (Go regexp and our DFA, or backtracking)", compared)
}
