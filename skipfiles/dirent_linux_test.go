//go:build linux

package skipfiles

import (
	"testing"
	"unsafe"
)

// TestStatInfoSize: a stat kept for each file listed is 56 bytes on a
// 64-bit system (issue 19: the walk keeps every one to its end, in fresh
// memory); it was 64 while it held its name as a string.
func TestStatInfoSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bound is for 64-bit systems")
	}
	if got := unsafe.Sizeof(statInfo{}); got > 56 {
		t.Errorf("statInfo is %d bytes, want at most 56", got)
	}
	var fi statInfo
	name := "mod00.py"
	fi.setName(name)
	if fi.Name() != name {
		t.Errorf("Name() = %q, want %q", fi.Name(), name)
	}
}
