// Package strgen makes the exhaustive sets of short strings that tests
// use to check a hand-written matcher against the regular expression it
// replaced: one generator instead of a copy in each test package. Only
// tests import it.
package strgen
