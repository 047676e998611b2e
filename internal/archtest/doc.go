// Package archtest holds no code, only a test of the import rules of the
// module (see README.md, Layout): commands on top, feature packages that do
// not import each other, the backend contract they use and the backends
// that implement it, and internal/ leaves that import nothing above them.
// The test reads `go list -deps -json ./...`, so a new package or import
// that breaks a rule fails `go test ./...`.
package archtest
