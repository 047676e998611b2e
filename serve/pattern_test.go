package serve

import "testing"

// TestURLPatternsArePython: handler urls are read by internal/pyre, as
// validate and ls_files read Python patterns, so a request is routed as
// Python's re matches the url: "[[:alpha:]]" is a set holding '[' and
// ':' followed by ']' there (not RE2's POSIX class), \d is any Unicode
// digit, a{1001} is a valid repeat.
func TestURLPatternsArePython(t *testing.T) {
	for _, tt := range []struct {
		url, path string
		want      bool
	}{
		{`/[[:alpha:]]`, "/a]", true},
		{`/[[:alpha:]]`, "/b", false},
		{`/item/\d+`, "/item/١٢", true},
		{`/x{1001}`, "/x", false},
		{`/(\w+)/\1`, "/ab/ab", true},
		{`/(\w+)/\1`, "/ab/cd", false},
	} {
		re, err := pyRegex(tt.url, "^(?:", ")$")
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if got := re.MatchString(tt.path); got != tt.want {
			t.Errorf("url %s on %s = %v, want %v (Python's re)", tt.url, tt.path, got, tt.want)
		}
	}
}
