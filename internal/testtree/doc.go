// Package testtree writes the file trees tests build their apps and
// directories from: one helper instead of a copy in each test package.
// Only tests import it.
package testtree
