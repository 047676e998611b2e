// Package suggest finds the known name closest to a mistyped one, for the
// "did you mean …?" of unknown commands, options and configuration keys.
package suggest

import "strings"

// Closest returns the candidate closest to s: at most about a third of its
// letters different (an adjacent swap counts as one), or, for s of three
// letters or more, one that s begins. "" when none is close. key maps a
// candidate to the form compared with s (nil: as it is).
func Closest(s string, candidates []string, key func(string) string) string {
	best, bestD := "", len(s)/3+1
	for _, c := range candidates {
		k := c
		if key != nil {
			k = key(c)
		}
		d := Distance(s, k)
		if d < bestD || (best == "" && len(s) >= 3 && strings.HasPrefix(k, s)) {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Damerau-Levenshtein (optimal string alignment) distance
// between a and b, in bytes: "handelrs" is one edit from "handlers".
func Distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
