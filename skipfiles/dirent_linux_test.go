//go:build linux

package skipfiles

import (
	"testing"
	"unsafe"
)

// TestListedSize: a listed entry, with the lstat it holds (entryInfo), is
// 72 bytes on a 64-bit system (issue 19: the walk keeps every one to its
// end, in fresh memory). It was 56 bytes and a stat'ed file's FileInfo 56
// more, which before that held its name as a string (64); 80 while it held
// its path as a string.
func TestListedSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bound is for 64-bit systems")
	}
	if got := unsafe.Sizeof(listed{}); got > 72 {
		t.Errorf("listed is %d bytes, want at most 72", got)
	}
	var a pathArena
	e := a.listed("static", "mod00.py")
	if fi := (*entryInfo)(&e); fi.Name() != "mod00.py" {
		t.Errorf("Name() = %q, want %q", fi.Name(), "mod00.py")
	}
}
