package lazyre

import (
	"regexp"
	"strings"
	"testing"
)

// TestLazyMatchesRegexp: the deferred pattern answers as the compiled one.
func TestLazyMatchesRegexp(t *testing.T) {
	const pat = `^([a-z]+)-(\d{1,3})$`
	l, re := New(pat), regexp.MustCompile(pat)
	for _, s := range []string{"abc-12", "abc-1234", "ABC-1", "x-9"} {
		if l.MatchString(s) != re.MatchString(s) {
			t.Errorf("%q: lazy %v, regexp %v", s, l.MatchString(s), re.MatchString(s))
		}
		if got, want := l.FindStringSubmatch(s), re.FindStringSubmatch(s); len(got) != len(want) {
			t.Errorf("%q: lazy %q, regexp %q", s, got, want)
		}
	}
	if l.String() != pat || l.Regexp() != l.Regexp() {
		t.Errorf("String %q or Regexp not the one compiled pattern", l.String())
	}
}

// TestBadPatternPanicsOnUse: a bad pattern is found on first use, as
// regexp.MustCompile finds it, and again on every later use (never a nil
// pattern).
func TestBadPatternPanicsOnUse(t *testing.T) {
	l := New(`(`)
	for i := range 2 {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, "missing closing )") {
					t.Errorf("use %d: recovered %v, want the compile error", i+1, r)
				}
			}()
			l.MatchString("x")
		}()
	}
}
