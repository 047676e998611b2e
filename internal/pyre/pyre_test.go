package pyre

import "testing"

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
	}
	for _, tt := range tests {
		re, err := Compile(tt.pattern, `\A(?:`, `)`)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := re.MatchString(tt.s); got != tt.want {
			t.Errorf("%q on %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestSubmatch(t *testing.T) {
	re, err := Compile(`/(?!api)(\w+)`, "^(?:", ")(?P<file>.*)$")
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
