package pyre

import (
	"math/rand/v2"
	"regexp/syntax"
	"testing"
)

// TestLazyDFAAgreesWithRegexp checks the DFA against Go's regexp on random
// paths over a small alphabet, where patterns and paths collide often.
func TestLazyDFAAgreesWithRegexp(t *testing.T) {
	patterns := []string{sdkDefaultSkipFiles, `^a*$`, `(a|b)*c`, `.*\.py[co]?$`, `^(.*/)?x/`, `caf\u00e9`, `(?i)AB+`, `^$`, `\bx`,
		`^(.*/)?#.*#$`, `^(.*/)?.*~$`, `^node_modules/.*`, `^tests?/.*`, `^(.*/)?(?i)readme(\.md)?$`, `^build/`}
	alphabet := []rune("ab/.cxpyé~#\nAB")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range patterns {
		pm, err := Compile(p, HoistGlobalFlags, `\A(?:`, `)`)
		if err != nil || pm.dfa == nil && p != `\bx` {
			t.Fatalf("%q: %v, or no DFA", p, err)
		}
		re := pm.re()
		for i := 0; i < 3000; i++ {
			n := rng.IntN(12)
			rs := make([]rune, n)
			for j := range rs {
				rs[j] = alphabet[rng.IntN(len(alphabet))]
			}
			s := string(rs)
			if got, want := pm.MatchString(s), re.MatchString(s); got != want {
				t.Fatalf("%q on %q: DFA %v, regexp %v", p, s, got, want)
			}
		}
	}
	if newLazyDFA(mustParse(t, `\bx`)) != nil {
		t.Error("word boundaries must fall back to regexp")
	}
	if newLazyDFA(mustParse(t, `ab`)) != nil {
		t.Error("an unanchored pattern (a search) must fall back to regexp")
	}
}

// TestLazyDFABudget: a pattern whose DFA would be huge falls back to regexp
// once the state budget is spent, with the same answers.
func TestLazyDFABudget(t *testing.T) {
	pm, err := Compile(`.*a.{13}$`, HoistGlobalFlags, `\A(?:`, `)`)
	if err != nil {
		t.Fatal(err)
	}
	re := pm.re()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		b := make([]byte, 14+rng.IntN(10))
		for j := range b {
			b[j] = "ab"[rng.IntN(2)]
		}
		if got, want := pm.MatchString(string(b)), re.MatchString(string(b)); got != want {
			t.Fatalf("%q: DFA %v, regexp %v", b, got, want)
		}
	}
	if n := len(pm.dfa.states); n > maxDFAStates {
		t.Errorf("%d DFA states, over the budget of %d", n, maxDFAStates)
	}
}

// sdkDefaultSkipFiles is the SDK's default skip_files, a pattern of the
// shape the DFA exists for.
const sdkDefaultSkipFiles = `^(.*/)?((#.*#)|(.*~)|(.*\.py[co])|(.*/RCS/.*)|(\..*)|)$`

func mustParse(t *testing.T, pattern string) *syntax.Regexp {
	t.Helper()
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	return re
}
