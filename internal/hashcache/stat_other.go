//go:build !unix

package hashcache

import (
	"io/fs"
	"os"
)

func fillSys(*Stat, fs.FileInfo) {}

func sameFile(a, b fs.FileInfo) bool { return os.SameFile(a, b) }
