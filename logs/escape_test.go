package logs

import (
	"math/rand/v2"
	"testing"
)

// TestPlainPrefix checks the eight-bytes-at-a-time scan against the byte
// table on strings with a rare special byte at every position.
func TestPlainPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	specials := []byte{0, 0x1f, ' ', '"', '\\', 0x7f, 0x80, 0xff}
	for n := range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(0x21 + rng.IntN(0x5e))
			if rng.IntN(12) == 0 {
				b[i] = specials[rng.IntN(len(specials))]
			}
		}
		for _, noSpace := range []bool{false, true} {
			want := 0
			for want < len(b) && plain[b[want]] && (!noSpace || b[want] != ' ') {
				want++
			}
			if got := plainPrefix(string(b), noSpace); got != want {
				t.Fatalf("case %d: plainPrefix(%q, %v) = %d, want %d", n, b, noSpace, got, want)
			}
		}
	}
}
