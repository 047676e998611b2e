package pyre

//go:generate sh -c "python3 ../../scripts/pyre_aliases.py /usr/share/perl/5.36/unicore/Name.pl > aliases.go"

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/unicode/runenames"
)

// lookupName is unicodedata.lookup as re reads \N{NAME} (Python 3.12,
// Unicode 15.0, the tables Go 1.26's runenames has): a character's name in
// any letter case, one of its aliases, or the names Python computes for CJK
// unified ideographs and Hangul syllables, with the same letter-case quirks.
// Named sequences of several characters are not characters, as re says.
func lookupName(name string) (rune, bool) {
	if r, ok := cjkName(name); ok {
		return r, true
	}
	if len(name) >= len(hangulPrefix) && strings.EqualFold(name[:len(hangulPrefix)], hangulPrefix) {
		if r, ok := hangulName(name[len(hangulPrefix):]); ok {
			return r, true
		}
	}
	upper := strings.ToUpper(name)
	if r, ok := namedRunes()[upper]; ok {
		return r, true
	}
	i := sort.Search(len(nameAliases), func(i int) bool { return nameAliases[i].name >= upper })
	if i < len(nameAliases) && nameAliases[i].name == upper {
		return nameAliases[i].r, true
	}
	return 0, false
}

// namedRunes maps every character's own name to it, built on the first
// \N{…}: runenames only maps the other way, and walking all code points
// takes tens of milliseconds, which no pattern without \N pays.
var namedRunes = sync.OnceValue(func() map[string]rune {
	m := make(map[string]rune, 40000)
	for r := rune(0); r <= 0x10FFFF; r++ {
		if n := runenames.Name(r); n != "" && n[0] != '<' {
			m[n] = r
		}
	}
	return m
})

// cjkName reads "CJK UNIFIED IDEOGRAPH-" and four or five upper-case hex
// digits naming a unified ideograph; Python reads this form case-sensitively.
func cjkName(name string) (rune, bool) {
	const prefix = "CJK UNIFIED IDEOGRAPH-"
	hex, ok := strings.CutPrefix(name, prefix)
	if !ok || len(hex) < 4 || len(hex) > 5 || strings.ToUpper(hex) != hex {
		return 0, false
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || !strings.HasPrefix(runenames.Name(rune(v)), "<CJK Ideograph") {
		return 0, false
	}
	return rune(v), true
}

const hangulPrefix = "HANGUL SYLLABLE "

// The short names of the conjoining jamo Hangul syllable names are made of
// (Unicode §3.12), leading consonant, vowel and trailing consonant.
var (
	jamoL = []string{"G", "GG", "N", "D", "DD", "R", "M", "B", "BB", "S", "SS", "", "J", "JJ", "C", "K", "T", "P", "H"}
	jamoV = []string{"A", "AE", "YA", "YAE", "EO", "E", "YEO", "YE", "O", "WA", "WAE", "OE", "YO", "U", "WEO", "WE", "WI", "YU", "EU", "YI", "I"}
	jamoT = []string{"", "G", "GG", "GS", "N", "NJ", "NH", "D", "L", "LG", "LM", "LB", "LS", "LT", "LP", "LH", "M", "B", "BS", "S", "SS", "NG", "J", "C", "K", "T", "P", "H"}
)

// hangulName composes a syllable from its jamo names as CPython does: the
// longest short name matching at each step, upper case only.
func hangulName(s string) (rune, bool) {
	longest := func(s string, names []string) (int, int) {
		best, n := -1, -1
		for i, j := range names {
			if strings.HasPrefix(s, j) && len(j) > n {
				best, n = i, len(j)
			}
		}
		return best, n
	}
	l, n := longest(s, jamoL)
	s = s[n:]
	v, n := longest(s, jamoV)
	if v < 0 {
		return 0, false
	}
	s = s[n:]
	t, n := longest(s, jamoT)
	if n != len(s) {
		return 0, false
	}
	return rune(0xAC00 + (l*len(jamoV)+v)*len(jamoT) + t), true
}
