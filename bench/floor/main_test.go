//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCopyFile checks the floor's copy does the download's work: the same
// bytes in a new file with request_logs' mode, no temporary file left, and
// on failure no output at all.
func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "lines")
	want := bytes.Repeat([]byte("127.0.0.1 - - [04/Dec/2026:10:00:00 -0800] \"GET / HTTP/1.1\" 200 5\n"), 5000)
	if err := os.WriteFile(src, want, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out.log")
	if err := copyFile(src, dst); err != nil {
		t.Fatalf("copyFile: %v", err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("copied %d bytes (%v), want the %d of the source", len(got), err, len(want))
	}
	if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("output mode %v (%v), want 0644 as request_logs writes", st.Mode().Perm(), err)
	}
	if err := copyFile(filepath.Join(dir, "missing"), filepath.Join(dir, "none.log")); err == nil {
		t.Errorf("copying a missing file succeeded")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 {
		t.Errorf("files left in the directory: %v, want only the source and the copy", ents)
	}
}
