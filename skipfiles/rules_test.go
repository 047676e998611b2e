package skipfiles

import "testing"

// TestOnePatternCompiledOnce: a skip_files of one pattern (the SDK's
// default is one) is compiled once, its joined form being itself, and
// decides as before: the rule named is that pattern; a list of two is
// joined and names the item that matched.
func TestOnePatternCompiledOnce(t *testing.T) {
	def, probs := compileSkipFiles(nil, "", nil, false)
	if probs != nil {
		t.Fatal(probs)
	}
	one, probs := compileSkipFiles([]string{`^vendor/.*$`}, "app.yaml", []Pos{{Line: 3, Column: 3}}, false)
	if probs != nil {
		t.Fatal(probs)
	}
	for _, r := range []*regexRules{def, one} {
		if len(r.items) != 1 || r.all != r.items[0] {
			t.Errorf("%d items, joined form compiled apart: %v", len(r.items), r.all != r.items[0])
		}
	}
	two, probs := compileSkipFiles([]string{`^vendor/.*$`, `^.*\.bak$`}, "app.yaml", nil, false)
	if probs != nil {
		t.Fatal(probs)
	}
	for _, tc := range []struct {
		r    *regexRules
		rel  string
		skip bool
		rule string
	}{
		{def, "main.py", false, ""},
		{def, "lib/.hidden", true, def.rules[0].Pattern},
		{def, "a/b/mod.pyc", true, def.rules[0].Pattern},
		{one, "vendor/x.go", true, `^vendor/.*$`},
		{one, "lib/vendor/x.go", false, ""},
		{two, "vendor/x.go", true, `^vendor/.*$`},
		{two, "lib/x.bak", true, `^.*\.bak$`},
		{two, "lib/x.go", false, ""},
	} {
		skip, rule := tc.r.match(tc.rel)
		got := ""
		if rule != nil {
			got = rule.Pattern
		}
		if skip != tc.skip || got != tc.rule {
			t.Errorf("match(%q) = %v, %q; want %v, %q", tc.rel, skip, got, tc.skip, tc.rule)
		}
	}
}
