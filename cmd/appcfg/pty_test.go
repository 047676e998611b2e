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

// ptyEnv are the variables a command run by ptyexec or ttyexec sees: the
// ones the scripts and the test setup use (testscript does not expose its
// whole environment to custom commands).
var ptyEnv = []string{"PATH", "HOME", "TMPDIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
	"APPCFG_BACKEND", "APPCFG_APPLICATION", "APPCFG_MODULE", "APPCFG_VERSION", "GOCOVERDIR", "GORACE", "WORK", "TERM"}

// cmdPtyExec is the script command `ptyexec ANSWERS PROG [ARGS...]`: it runs
// PROG with a pseudo-terminal as stdin, types the lines of the file ANSWERS
// into it followed by end-of-input, and keeps PROG's stdout and stderr (plain
// pipes) for the commands that follow. It drives prompts that are asked only
// on a terminal. It needs Linux's /dev/ptmx.
func cmdPtyExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: ptyexec ANSWERS PROG [ARGS...]")
	}
	answers := []byte(ts.ReadFile(args[0]))
	if len(answers) > 0 && answers[len(answers)-1] != '\n' {
		answers = append(answers, '\n')
	}
	// ^D at the start of a line is end-of-input on a terminal.
	runOnPTY(ts, neg, args[1:], append(answers, 4))
}

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
	runOnPTY(ts, neg, args, nil)
}

// runOnPTY runs args with a pseudo-terminal as stdin when typed is set
// (typed is written into it), else as stderr (what the terminal shows
// becomes the command's stderr); the other streams are pipes.
func runOnPTY(ts *testscript.TestScript, neg bool, args []string, typed []byte) {
	master, tty, err := openPTY()
	ts.Check(err) // scripts using ptyexec or ttyexec start with [!linux] skip
	defer master.Close()
	prog, err := exec.LookPath(args[0])
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args[1:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, name := range ptyEnv {
		if v := ts.Getenv(name); v != "" {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	var stdout, stderr, screen bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if typed != nil {
		cmd.Stdin = tty
	} else {
		cmd.Stderr = tty
	}
	ts.Check(cmd.Start())
	tty.Close() // the child holds it now; the master sees EIO once the child exits
	drained := make(chan error, 1)
	go func() {
		// With typed input the terminal only echoes it back.
		_, err := io.Copy(&screen, master)
		drained <- err
	}()
	if typed != nil {
		_, err = master.Write(typed)
		ts.Check(err)
	}
	runErr := cmd.Wait()
	if typed != nil {
		master.Close()
	}
	// Once the child exits the master reads EIO; with typed input it was
	// closed above, and what it echoed does not matter.
	if err := <-drained; typed == nil && err != nil && !errors.Is(err, syscall.EIO) {
		ts.Fatalf("reading the terminal: %v", err)
	}
	_, _ = ts.Stdout().Write(stdout.Bytes())
	if typed == nil {
		_, _ = ts.Stderr().Write(screen.Bytes())
	} else {
		_, _ = ts.Stderr().Write(stderr.Bytes())
	}
	switch {
	case ctx.Err() != nil:
		ts.Fatalf("%s did not finish within a minute", args[0])
	case runErr != nil && !neg:
		ts.Fatalf("%s: %v", args[0], runErr)
	case runErr == nil && neg:
		ts.Fatalf("%s succeeded unexpectedly", args[0])
	}
}
