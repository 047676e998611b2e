package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// stdio is the process's streams, injected so tests can run the CLI in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	// errTTY tells whether stderr is a terminal, for progress bars.
	errTTY bool
	// inTTY tells whether stdin is a terminal, for prompts.
	inTTY bool
}

func newStdio() stdio {
	return stdio{
		in: os.Stdin, out: os.Stdout, err: os.Stderr,
		errTTY: term.IsTerminal(int(os.Stderr.Fd())),
		inTTY:  term.IsTerminal(int(os.Stdin.Fd())),
	}
}
