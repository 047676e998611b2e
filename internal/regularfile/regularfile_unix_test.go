//go:build unix

package regularfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appcfg/appcfg/internal/regularfile"
)

// A named pipe and a device are refused at once, saying what they are; a
// regular file is read.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "cron.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	plain := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(plain, []byte("runtime: go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, tt := range []struct{ path, kind string }{{fifo, "a named pipe"}, {"/dev/urandom", "a character device"}, {dir, "a directory"}} {
			_, err := regularfile.Read(tt.path, -1)
			var nr *regularfile.NotRegularError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), tt.kind) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Read(%s): %v, want it named %s, not a regular file", tt.path, err, tt.kind)
			}
		}
		if data, err := regularfile.Read(plain, -1); err != nil || string(data) != "runtime: go\n" {
			t.Errorf("Read(app.yaml) = %q, %v", data, err)
		}
		if _, err := regularfile.Read(plain, 4); err == nil {
			t.Errorf("Read with a limit below the size succeeded")
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Read blocked on a named pipe")
	}
}
