package instance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one running process of an instance.
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed once the process exited and its output was read
	reaped  chan struct{} // closed once the process exited
	exitErr error         // set before done closes
	outs    [2]*os.File   // stdout and stderr, read by pump
}

// startProc starts the shell command in dir with env, its stdout and
// stderr going to the router.
func startProc(shell, dir string, env []string, router *logRouter) (*proc, error) {
	cmd := exec.Command("/bin/sh", "-c", shell)
	cmd.Dir = dir
	cmd.Env = env
	setGroup(cmd)
	var readers [2]*os.File
	var writers [2]*os.File
	for i := range readers {
		r, w, err := os.Pipe()
		if err != nil {
			for j := 0; j < i; j++ {
				readers[j].Close()
				writers[j].Close()
			}
			return nil, err
		}
		readers[i], writers[i] = r, w
	}
	cmd.Stdout, cmd.Stderr = writers[0], writers[1]
	err := cmd.Start()
	writers[0].Close()
	writers[1].Close()
	if err != nil {
		readers[0].Close()
		readers[1].Close()
		return nil, err
	}
	p := &proc{cmd: cmd, started: time.Now(), done: make(chan struct{}), reaped: make(chan struct{}), outs: readers}
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			pump(r, i, router)
		}()
	}
	go func() {
		p.exitErr = cmd.Wait()
		close(p.reaped)
		// The output after the exit (its last words) is read before done.
		waitOrTimeout(&wg, time.Second)
		close(p.done)
	}()
	return p, nil
}

// flush reads what the process wrote and nobody read yet.
func (p *proc) flush(r *logRouter) {
	for i, f := range p.outs {
		flushPipe(f, i, r)
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.reaped:
		return true
	default:
		return false
	}
}

// waitReady waits until the process accepts connections on port, exits or
// ctx ends.
func (p *proc) waitReady(ctx context.Context, port int) error {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("it exited before listening on $PORT (%d): %v", port, exitText(p.exitErr))
		case <-ctx.Done():
			return fmt.Errorf("it did not listen on $PORT (%d) in time: %w", port, ctx.Err())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	signalGroup(p.cmd, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return
	case <-t.C:
	}
	signalGroup(p.cmd, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimPrefix(ee.Error(), "exec: ")
	}
	return err.Error()
}

func waitOrTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// freePort picks a loopback port nobody listens on.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
