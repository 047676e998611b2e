//go:build !unix

package hashcache

import "io/fs"

func fillSys(*Stat, fs.FileInfo) {}
