//go:build unix

package instance

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setGroup puts the process in a group of its own, so a stop reaches what
// its shell started (gunicorn's workers, npm's node); where the system
// can, the instance is also killed when serve dies without stopping it
// (SIGKILL).
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
}

func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, sig)
	}
}

// pump reads a stream into the router. Every read happens with the
// router's lock held and through the non-blocking descriptor, so flush (on
// End) can take the lock and drain what is left: a line written before the
// response is never counted to the next request.
func pump(f *os.File, stream int, r *logRouter) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		var eof bool
		err := rc.Read(func(fd uintptr) bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			var again bool
			eof, again = drain(int(fd), stream, buf, r)
			return !again
		})
		if err != nil || eof {
			r.mu.Lock()
			r.eof(stream)
			r.mu.Unlock()
			return
		}
	}
}

// drain reads fd until it would block (again) or ends (eof); r.mu is held.
func drain(fd, stream int, buf []byte, r *logRouter) (eof, again bool) {
	for {
		n, err := syscall.Read(fd, buf)
		if n > 0 {
			r.write(stream, buf[:n])
			continue
		}
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.EAGAIN) {
			return false, true
		}
		return true, false
	}
}

// flushPipe reads what the process wrote to f and nobody read yet.
func flushPipe(f *os.File, stream int, r *logRouter) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.flushBuf == nil {
			r.flushBuf = make([]byte, 32<<10)
		}
		drain(int(fd), stream, r.flushBuf, r)
	})
}
