//go:build !linux

package main

import (
	"errors"
	"os"
)

var errNoPTY = errors.New("no pseudo-terminal support in these tests on this system (Linux only)")

func openPTY() (*os.File, *os.File, error) { return nil, nil, errNoPTY }
