package strgen

import (
	"slices"
	"testing"
)

func TestExtend(t *testing.T) {
	got := Extend([]string{"", "g"}, "ab")
	if len(got) != 2*(1+2+4+8) {
		t.Fatalf("len = %d, want %d", len(got), 2*(1+2+4+8))
	}
	for _, want := range []string{"", "a", "ba", "bab", "g", "gb", "gaa", "gbba"} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q", want)
		}
	}
	if slices.Contains(got, "abab") {
		t.Error(`"abab" has four characters after the prefix ""`)
	}
	if got := Extend([]string{"x"}, "é"); !slices.Equal(got, []string{"x", "xé", "xéé", "xééé"}) {
		t.Errorf("runes: %q", got)
	}
}
