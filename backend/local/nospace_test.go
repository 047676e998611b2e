package local

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

// A write that hit ENOSPC is worded for the user, names the store and
// what to free, and still matches ENOSPC; other errors pass unchanged.
func TestNoSpaceWording(t *testing.T) {
	full := fmt.Errorf("storing blob x: %w", &fs.PathError{Op: "write", Path: "/s/blobs/ab/.tmp", Err: syscall.ENOSPC})
	err := noSpaceIn("storing blob x", "/s", full)
	var ns *NoSpaceError
	if !errors.As(err, &ns) || !errors.Is(err, syscall.ENOSPC) ||
		err.Error() != "storing blob x: no space left on device (/s): free some space on that disk (appcfg delete_version removes versions you no longer need), then run the command again" {
		t.Errorf("got %v", err)
	}
	if again := noSpaceIn("outer", "/s", fmt.Errorf("wrapped: %w", err)); !strings.HasPrefix(again.Error(), "wrapped: storing blob x: no space") {
		t.Errorf("an already worded error was worded again: %v", again)
	}
	other := errors.New("permission denied")
	if got := noSpaceIn("op", "/s", other); got != other {
		t.Errorf("an unrelated error became %v", got)
	}
	if noSpaceIn("op", "/s", nil) != nil {
		t.Error("nil became an error")
	}
}
