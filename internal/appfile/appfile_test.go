package appfile

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// TestFileSize: a File is 40 bytes on a 64-bit system (issue 19: the
// upload set of 10,000 files is fresh memory, a fault a page); 88 while it
// held its size, its generated content and its absolute path.
func TestFileSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bound is for 64-bit systems")
	}
	if got := unsafe.Sizeof(File{}); got > 40 {
		t.Errorf("File is %d bytes, want at most 40", got)
	}
}

// TestGenerated: a generated file is its content, with no place on disk
// and no modification time; a listed file's size is its Info's.
func TestGenerated(t *testing.T) {
	f := Generated("_go_main.go", []byte("package main\n"))
	if string(f.Data()) != "package main\n" || f.Size() != 13 || !f.ModTime().IsZero() || f.Abs("/app") != "" {
		t.Errorf("generated: data %q, size %d, mtime %v, abs %q", f.Data(), f.Size(), f.ModTime(), f.Abs("/app"))
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	l := File{Path: "a.txt", Info: info}
	if l.Data() != nil || l.Size() != 3 || l.ModTime() != info.ModTime() || l.Abs(dir) != p {
		t.Errorf("listed: data %q, size %d, mtime %v, abs %q", l.Data(), l.Size(), l.ModTime(), l.Abs(dir))
	}
}

// TestAbs: the path to read is the root and the path from it, once a
// separator between them, the root directory included.
func TestAbs(t *testing.T) {
	sep := string(filepath.Separator)
	for _, tc := range []struct{ root, path, want string }{
		{sep + "app", "lib/a.py", sep + "app" + sep + "lib" + sep + "a.py"},
		{sep, "main.py", sep + "main.py"},
		{sep + "app", "app.yaml", sep + "app" + sep + "app.yaml"},
	} {
		f := File{Path: tc.path}
		if got := f.Abs(tc.root); got != tc.want {
			t.Errorf("Abs(%q) of %q = %q, want %q", tc.root, tc.path, got, tc.want)
		}
	}
}
