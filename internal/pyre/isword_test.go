package pyre

import (
	"testing"
	"unicode/utf8"
)

// TestIsWordIsTheClass: IsWord answers as a compiled \w does, on every
// character below U+3000 and one in 7 above it (surrogates excluded: they
// are not characters of a UTF-8 string).
func TestIsWordIsTheClass(t *testing.T) {
	re, err := Compile(`^\w$`, 0, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0x3000 {
			r += 6
		}
		if !utf8.ValidRune(r) {
			continue
		}
		if got, want := IsWord(r), re.MatchString(string(r)); got != want {
			t.Fatalf("IsWord(%U) = %v, \\w says %v", r, got, want)
		}
	}
}
