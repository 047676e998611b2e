package main

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// ptyEnv are the variables a command run by ptyexec sees: the ones the
// scripts and the test setup use (testscript does not expose its whole
// environment to custom commands).
var ptyEnv = []string{"PATH", "HOME", "TMPDIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
	"APPCFG_BACKEND", "APPCFG_APPLICATION", "APPCFG_MODULE", "APPCFG_VERSION", "GOCOVERDIR", "GORACE", "WORK"}

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
	master, tty, err := openPTY()
	ts.Check(err) // scripts using ptyexec start with [!linux] skip
	defer master.Close()
	prog, err := exec.LookPath(args[1])
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, name := range ptyEnv {
		if v := ts.Getenv(name); v != "" {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, &stderr
	ts.Check(cmd.Start())
	tty.Close() // the child holds it now; the master sees EIO once the child exits
	drained := make(chan struct{})
	go func() {
		// The terminal echoes what is typed; nobody reads it.
		_, _ = io.Copy(io.Discard, master)
		close(drained)
	}()
	if len(answers) > 0 && answers[len(answers)-1] != '\n' {
		answers = append(answers, '\n')
	}
	// ^D at the start of a line is end-of-input on a terminal.
	_, err = master.Write(append(answers, 4))
	ts.Check(err)
	runErr := cmd.Wait()
	master.Close()
	<-drained
	_, _ = ts.Stdout().Write(stdout.Bytes())
	_, _ = ts.Stderr().Write(stderr.Bytes())
	switch {
	case ctx.Err() != nil:
		ts.Fatalf("%s did not finish within a minute", args[1])
	case runErr != nil && !neg:
		ts.Fatalf("%s: %v", args[1], runErr)
	case runErr == nil && neg:
		ts.Fatalf("%s succeeded unexpectedly", args[1])
	}
}
