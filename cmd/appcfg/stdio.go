package main

import (
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// stdio is the process's streams, injected so tests can run the CLI in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	// errTTY tells whether stderr is a terminal that can redraw a line, for
	// progress bars: not when TERM=dumb, which asks for plain lines.
	errTTY bool
	// errWidth is the width of stderr's terminal in columns (0 unknown).
	errWidth func() int
	// inTTY tells whether stdin is a terminal, for prompts.
	inTTY bool
	// getenv reads the environment (GitHub Actions' variables); nil reads
	// nothing.
	getenv func(string) string
}

func newStdio() stdio {
	errFd := int(os.Stderr.Fd())
	return stdio{
		in: os.Stdin, out: os.Stdout, err: os.Stderr,
		errTTY: term.IsTerminal(errFd) && os.Getenv("TERM") != "dumb",
		errWidth: func() int {
			w, _, err := term.GetSize(errFd)
			if err != nil {
				return 0
			}
			return w
		},
		inTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		getenv: os.Getenv,
	}
}

// lockedWriter serializes writes to stderr: status lines, progress and the
// --noisy HTTP log come from several goroutines (a backend's prefetch logs
// while the deploy reports its phases), and each line must reach the
// stream whole.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
