package pyre

import (
	"encoding/json"
	"os/exec"
	"slices"
	"testing"

	"github.com/appcfg/appcfg/internal/sdktest"
)

// pythonRE is a python3 to compare with: the SDK's (Python 3.12, the
// dialect), else the one on PATH; the test is skipped, saying so, when
// there is none.
func pythonRE(t *testing.T) string {
	t.Helper()
	if python, _, ok := sdktest.Find(); ok {
		return python
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 (neither the Cloud SDK's nor one on PATH): skipping the comparison with Python's re")
	}
	return python
}

// TestGroupNumbersAgainstPython: groups are numbered as Python numbers
// them, in the order of their opening parentheses, named or not, on both
// engines, so a static_files \1, a bulkloader transform's group 1 and a
// back-reference \1 mean the group they mean on App Engine. The
// backtracking engine (.NET rules) numbered the named groups after the
// unnamed ones: (?P<a>x)(y)\1 matched "xyy" and gave y as group 1.
func TestGroupNumbersAgainstPython(t *testing.T) {
	python := pythonRE(t)
	type tc struct{ prefix, pattern, suffix, subject string }
	var cases []tc
	for _, c := range []struct{ pattern, subject string }{
		{`(?P<a>x)(y)`, "xy"},
		{`(?P<a>x)(y)\1`, "xyx"}, {`(?P<a>x)(y)\1`, "xyy"},
		{`(?P<a>x)(y)\2`, "xyy"}, {`(?P<a>x)(y)\2`, "xyx"},
		{`(a)(?P<b>b)(c)(?P=b)`, "abcb"}, {`(a)(?P<b>b)(c)\2`, "abcb"}, {`(a)(?P<b>b)(c)\2`, "abcc"},
		{`(?P<a>x)?(?(a)y|z)(w)`, "xyw"}, {`(?P<a>x)?(?(a)y|z)(w)`, "zw"},
		{`(q)?(?P<a>x)(?(1)y|z)`, "xz"}, {`(q)?(?P<a>x)(?(1)y|z)`, "qxy"},
		{`((?P<in>a)b)(c)(?P<last>d)`, "abcd"},
		{`(?:x)(?P<n>y)(z)`, "xyz"},
		{`/(?P<dir>[a-z]+)/(\w+)\.(?P<ext>png|gif)`, "/img/logo.png"},
	} {
		for _, pre := range []string{"", "(?=.)"} { // (?=.): the backtracking engine
			cases = append(cases,
				tc{`\A(?:`, pre + c.pattern, `)`, c.subject},
				tc{`^(?:`, pre + c.pattern, `)(?P<file>.*)$`, c.subject + "/rest"})
		}
	}
	var in [][2]string
	for _, c := range cases {
		in = append(in, [2]string{c.prefix + c.pattern + c.suffix, c.subject})
	}
	data, _ := json.Marshal(in)
	script := `
import json, re, sys
out = []
for p, s in json.load(sys.stdin):
    r = re.compile(p)
    m = r.match(s)
    out.append({"groups": None if m is None else [m.group(0)] + ["" if g is None else g for g in m.groups()],
                "names": dict(r.groupindex), "n": r.groups})
print(json.dumps(out))`
	var want []struct {
		Groups []string
		Names  map[string]int
		N      int
	}
	if runPython(t, python, script, data, &want); len(want) != len(cases) {
		t.Fatalf("python gave %d answers for %d patterns", len(want), len(cases))
	}
	for i, c := range cases {
		re, err := Compile(c.pattern, HoistGlobalFlags, c.prefix, c.suffix)
		if err != nil {
			t.Errorf("%s%s%s: %v", c.prefix, c.pattern, c.suffix, err)
			continue
		}
		w := want[i]
		if got := re.FindStringSubmatch(c.subject); !slices.Equal(got, w.Groups) || (got == nil) != (w.Groups == nil) {
			t.Errorf("%s%s%s on %q (backtracking %v): groups %q, Python %q", c.prefix, c.pattern, c.suffix, c.subject, re.Backtracks(), got, w.Groups)
		}
		if got := re.NumSubexp(); got != w.N {
			t.Errorf("%s%s%s: %d groups, Python %d", c.prefix, c.pattern, c.suffix, got, w.N)
		}
		for name, n := range w.Names {
			if got := re.SubexpIndex(name); got != n {
				t.Errorf("%s%s%s (backtracking %v): group %s is number %d, Python %d", c.prefix, c.pattern, c.suffix, re.Backtracks(), name, got, n)
			}
		}
	}
}
