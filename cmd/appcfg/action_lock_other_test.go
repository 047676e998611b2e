//go:build !unix

package main

import "testing"

// shareModuleVersion: without flock, the version's files are always
// removed when the test ends; two test processes of the same checkout
// running TestAction at once may then fail.
func shareModuleVersion(t *testing.T, version string) (ifSoleUser func(remove func())) {
	return func(remove func()) { remove() }
}
