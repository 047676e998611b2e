package logs

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// readEnds is a reader of data that records at which of its offsets each
// read ended.
type readEnds struct {
	r    *bytes.Reader
	ends []int64
	off  int64
}

func (e *readEnds) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.off += int64(n)
	if n > 0 {
		e.ends = append(e.ends, e.off)
	}
	return n, err
}

// newAllocatingFile is an output file "out" in dir holding "abc\n",
// written through the allocatingFile it returns; the test closes it.
func newAllocatingFile(t *testing.T, dir string) (*os.File, *allocatingFile) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	a := &allocatingFile{f: f}
	if _, err := a.Write([]byte("abc\n")); err != nil {
		t.Fatal(err)
	}
	return f, a
}

// A run of stored lines that starts off a multiple of copyAlign in the
// output is copied in two parts, the second starting at the multiple: the
// kernel's copy then writes whole 64 KiB stretches (see copyAlign). The
// bytes are the run's, once each, after what was written before.
func TestAllocatingFileCopiesRunsFromAlignedOffsets(t *testing.T) {
	f, a := newAllocatingFile(t, t.TempDir())
	run := bytes.Repeat([]byte("0123456789abcde\n"), 3*copyAlign/16)
	src := &readEnds{r: bytes.NewReader(run)}
	n, err := io.Copy(a, &io.LimitedReader{R: src, N: int64(len(run))})
	if err != nil || n != int64(len(run)) {
		t.Fatalf("copy: %d bytes, %v; want %d", n, err, len(run))
	}
	head := int64(copyAlign - 4) // the run's bytes that end at copyAlign in the output
	found := false
	for _, e := range src.ends {
		found = found || e == head
	}
	if !found {
		t.Errorf("reads of the run ended at %v: none at %d, where the output reaches %d", src.ends, head, copyAlign)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte("abc\n"), run...); !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes, not the %d written", len(got), len(want))
	}

	// A run that ends before the multiple is copied whole, as is one
	// starting on it.
	for _, size := range []int{100, copyAlign} {
		before := a.off
		src := &readEnds{r: bytes.NewReader(run[:size])}
		if n, err := io.Copy(a, &io.LimitedReader{R: src, N: int64(size)}); err != nil || n != int64(size) {
			t.Fatalf("copy of %d: %d bytes, %v", size, n, err)
		}
		if a.off != before+int64(size) {
			t.Fatalf("output end %d after a run of %d from %d", a.off, size, before)
		}
	}
}
