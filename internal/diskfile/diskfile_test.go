package diskfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// The files behave as os.Open's and os.OpenFile's: content, errors that
// errors.Is recognises, and a refused second creation.
func TestOpenAndCreateNew(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	w, err := CreateNew(name, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("content\n"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("created file: %v, %v; want mode 0600", fi, err)
	}
	if _, err := CreateNew(name, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateNew of an existing file: %v, want fs.ErrExist", err)
	}
	r, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || string(got) != "content\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	var pe *fs.PathError
	if _, err := Open(name + ".absent"); !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != name+".absent" {
		t.Fatalf("Open of an absent file: %v, want a *fs.PathError wrapping fs.ErrNotExist", err)
	}
}
