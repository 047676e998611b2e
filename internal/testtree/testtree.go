package testtree

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes files (slash-separated path under dir → content), making
// the directories they need; it fails t on the first error.
func Write(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		WriteFile(t, dir, rel, content)
	}
}

// WriteFile writes one file at the slash-separated path rel under dir,
// making the directories it needs; it fails t on an error.
func WriteFile(t testing.TB, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
