package local

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/appcfg/appcfg/internal/diskfull"
)

// NoSpaceError is a write that failed because the disk holding the store is
// full. It matches syscall.ENOSPC with errors.Is.
type NoSpaceError struct {
	Op   string // what failed, "" when the caller says it
	Path string // the store's directory
	Err  error  // the error the write returned
}

func (e *NoSpaceError) Error() string {
	op := ""
	if e.Op != "" {
		op = e.Op + ": "
	}
	return fmt.Sprintf("%sno space left on device (%s): free some space on that disk "+
		"(appcfg delete_version removes versions you no longer need), then run the command again", op, e.Path)
}

func (e *NoSpaceError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, syscall.ENOSPC) true whichever layer saw it.
func (e *NoSpaceError) Is(target error) bool { return target == syscall.ENOSPC }

// noSpace returns err as a *NoSpaceError of op when it comes from a full
// disk under the store, and unchanged otherwise.
func (b *Backend) noSpace(op string, err error) error {
	return noSpaceIn(op, b.root, err)
}

func noSpaceIn(op, root string, err error) error {
	if err == nil {
		return nil
	}
	var ns *NoSpaceError
	if errors.As(err, &ns) {
		return err
	}
	if !diskfull.Is(err, root) {
		return err
	}
	return &NoSpaceError{Op: op, Path: root, Err: err}
}
