//go:build unix

package diskfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStatAtNul: StatAtNul answers as unix.Fstatat does (a file, a link
// with and without following it, an absent name, a name too long, a path
// through a directory), and on Linux (amd64, arm64) allocates nothing.
func TestStatAtNul(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), []byte("twelve bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "ab"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ab", "cdef"), []byte("four"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, tc := range []struct {
		name  string
		flags int
	}{
		{"file", 0},
		{"link", 0},
		{"link", unix.AT_SYMLINK_NOFOLLOW},
		{"absent", 0},
		{strings.Repeat("n", 300), 0},
		{"ab/cdef", 0},
		{"ab/absent", 0},
	} {
		var got, want unix.Stat_t
		name := append([]byte(tc.name), 0)
		gotErr, wantErr := StatAtNul(fd, &name[0], &got, tc.flags), unix.Fstatat(fd, tc.name, &want, tc.flags)
		if gotErr != wantErr || got != want {
			t.Errorf("StatAtNul(%.20q, %#x) = %+v, %v; unix.Fstatat: %+v, %v", tc.name, tc.flags, got, gotErr, want, wantErr)
		}
	}
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
		var st unix.Stat_t
		name := []byte("file\x00")
		if n := testing.AllocsPerRun(100, func() { StatAtNul(fd, &name[0], &st, 0) }); n != 0 {
			t.Errorf("StatAtNul allocates %v times a call, want 0", n)
		}
	}
}
