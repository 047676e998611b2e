package pyre

import "slices"

// pyFoldSets are the characters Python's re, under IGNORECASE without the
// ASCII flag, takes as one letter where RE2's (?i) sees several: Python
// compares simple lower cases (U+0130 İ is i) and adds equivalences of
// its own (U+0131 ı is i too), where RE2 follows Unicode's simple case
// folding, which keeps the Turkish i's apart. Every other character folds
// alike in both (TestCaseFoldAgainstPython compares them all with
// Python's). The translator writes a member of a set as the whole set.
var pyFoldSets = [][]rune{
	{'I', 'i', '\u0130', '\u0131'}, // I i İ ı
	{'\u0390', '\u1fd3'},           // ΐ and its compatibility twin
	{'\u03b0', '\u1fe3'},           // ΰ and its compatibility twin
	{'\ufb05', '\ufb06'},           // the ſt and st ligatures
}

// pyFoldSet is the set of pyFoldSets r is in, nil when none.
func pyFoldSet(r rune) []rune {
	for _, set := range pyFoldSets {
		if slices.Contains(set, r) {
			return set
		}
	}
	return nil
}
