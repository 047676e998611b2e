// Package appfile is the one type of a file in an app's upload set, shared
// by the package that chooses the set (skipfiles, whose walk makes each
// File) and the one that deploys it (upload, which hashes and sends them).
//
// It is a leaf of its own because feature packages do not import each
// other: with a type each, cmd/appcfg copied the walk's list into upload's,
// 5,000 files' worth of fresh memory (about 120 page faults, 11 µs each on
// the VM the benchmarks run on) on every deploy. With one type the walk's
// list is the deploy's.
package appfile
