package testtree

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	Write(t, dir, map[string]string{"app.yaml": "runtime: python312\n", "static/css/a.css": "a{}"})
	for rel, want := range map[string]string{"app.yaml": "runtime: python312\n", "static/css/a.css": "a{}"} {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", rel, got, err, want)
		}
	}
}
