// Package hashcache remembers the SHA-1 of an app's files by their stat data
// (size, modification time, inode, change time), and which content checks
// (the secret guard) each file passed, so that redeploying an unchanged app
// reads no file contents at all.
//
// A file whose stat data changed is hashed and checked again. A file modified less than
// two seconds before it was hashed is not cached: a later write within the
// file system's timestamp granularity could leave its stat data unchanged
// (git's "racily clean" problem).
package hashcache
