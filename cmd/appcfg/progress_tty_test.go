package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdTTYExec is the script command `ttyexec PROG [ARGS...]`: it runs PROG
// with a pseudo-terminal as stderr (stdin empty, stdout a pipe) and keeps
// what the terminal received, escape sequences and all, as the stderr the
// commands that follow look at. TERM is passed on, so a script can check
// the progress bar on a capable terminal and its absence on a dumb one.
// The terminal turns each "\n" into "\r\n". It needs Linux's /dev/ptmx.
func cmdTTYExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: ttyexec PROG [ARGS...]")
	}
	master, tty, err := openPTY()
	ts.Check(err) // scripts using ttyexec start with [!linux] skip
	defer master.Close()
	prog, err := exec.LookPath(args[0])
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args[1:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, name := range append(ptyEnv, "TERM") {
		if v := ts.Getenv(name); v != "" {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	var stdout, screen bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, tty
	ts.Check(cmd.Start())
	tty.Close() // the child holds it now; the master sees EIO once the child exits
	drained := make(chan error, 1)
	go func() {
		_, err := io.Copy(&screen, master)
		drained <- err
	}()
	runErr := cmd.Wait()
	if err := <-drained; err != nil && !errors.Is(err, syscall.EIO) {
		ts.Fatalf("reading the terminal: %v", err)
	}
	_, _ = ts.Stdout().Write(stdout.Bytes())
	_, _ = ts.Stderr().Write(screen.Bytes())
	switch {
	case ctx.Err() != nil:
		ts.Fatalf("%s did not finish within a minute", args[0])
	case runErr != nil && !neg:
		ts.Fatalf("%s: %v", args[0], runErr)
	case runErr == nil && neg:
		ts.Fatalf("%s succeeded unexpectedly", args[0])
	}
}
