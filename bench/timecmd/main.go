//go:build unix

// Command timecmd runs one command and prints how long it took, for the
// benchmarks in bench/: "WALL USER SYS MAXRSS_KB", the times in seconds to
// the microsecond, from the kernel's accounting of the child (wait4's
// rusage) and a monotonic clock read just before the child is started
// and just after it is reaped. GNU time's %e counts in 10 ms steps, too
// coarse for runs of 50–80 ms, and a shell around the command would add
// its own start to the time.
//
// Usage: timecmd [-o OUT] [-a FILE] CMD [ARGS...]
//
// It is built on unix systems only: the benchmarks it serves run there, and
// a child's resource usage is wait4's.
//
// -o OUT sends the command's stdout to OUT, created (or truncated) inside
// the timed span, as a shell's redirection would be; -a FILE appends the
// line to FILE instead of printing it. A command that fails makes timecmd
// fail with its exit status.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "timecmd:", err)
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			os.Exit(ee.ExitCode())
		}
		os.Exit(2)
	}
}

func run() error {
	out := flag.String("o", "", "write the command's stdout to this file")
	appendTo := flag.String("a", "", "append the timing line to this file instead of printing it")
	flag.Parse()
	if flag.NArg() == 0 {
		return errors.New("usage: timecmd [-o OUT] [-a FILE] CMD [ARGS...]")
	}
	r, err := measure(flag.Args(), *out)
	if err != nil {
		return err
	}
	if *appendTo == "" {
		_, err = os.Stdout.WriteString(r.String())
		return err
	}
	f, err := os.OpenFile(*appendTo, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(r.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// result is one run's cost.
type result struct {
	wall, user, sys time.Duration
	maxRSSKiB       int64
}

// String is the line the benchmarks read: "WALL USER SYS MAXRSS_KB".
func (r result) String() string {
	return fmt.Sprintf("%.6f %.6f %.6f %d\n", r.wall.Seconds(), r.user.Seconds(), r.sys.Seconds(), r.maxRSSKiB)
}

// measure runs argv, its stdout going to the file out when not "", and
// returns what it cost; an error when it could not run or failed.
func measure(argv []string, out string) (result, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", argv[0], err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return result{}, errors.New("the system reports no resource usage of the command")
	}
	return result{wall: wall, user: time.Duration(syscall.TimevalToNsec(ru.Utime)),
		sys: time.Duration(syscall.TimevalToNsec(ru.Stime)), maxRSSKiB: int64(ru.Maxrss)}, nil
}
