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

// TestStatAt: StatAt answers as unix.Fstatat does (a file, a link with and
// without following it, an absent name, a name too long, a NUL in the
// name), and on Linux (amd64, arm64) allocates nothing.
func TestStatAt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), []byte("twelve bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", filepath.Join(dir, "link")); err != nil {
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
		{"fi\x00le", 0},
	} {
		var got, want unix.Stat_t
		gotErr, wantErr := StatAt(fd, tc.name, &got, tc.flags), unix.Fstatat(fd, tc.name, &want, tc.flags)
		if gotErr != wantErr || got != want {
			t.Errorf("StatAt(%.20q, %#x) = %+v, %v; unix.Fstatat: %+v, %v", tc.name, tc.flags, got, gotErr, want, wantErr)
		}
	}
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
		var st unix.Stat_t
		if n := testing.AllocsPerRun(100, func() { StatAt(fd, "file", &st, 0) }); n != 0 {
			t.Errorf("StatAt allocates %v times a call, want 0", n)
		}
	}
}
