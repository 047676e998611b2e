package pyre

import (
	"testing"
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
		_, err := Compile(re, `\A(?:`, `)`)
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
		re, err := Compile(tt.pattern, `\A(?:`, `)`)
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

// TestASCIIFoldFromPrefix: re.IGNORECASE given as a "(?i)" prefix (the
// bulkloader's flags) with an inline (?a) folds ASCII letters only, as
// Python's re.compile("(?a)k", re.I) does.
func TestASCIIFoldFromPrefix(t *testing.T) {
	re, err := Compile(`(?a)k`, `(?i)\A(?:`, `)`)
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"k": true, "K": true, "\u212a": false} {
		if got := re.MatchString(s); got != want {
			t.Errorf("match %q = %v, want %v", s, got, want)
		}
	}
}
