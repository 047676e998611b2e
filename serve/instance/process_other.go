//go:build !unix

package instance

import (
	"os"
	"os/exec"
	"syscall"
)

func setGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ syscall.Signal) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// pump reads a stream into the router. Without non-blocking reads a line
// may reach the request after the one it was written for.
func pump(f *os.File, stream int, r *logRouter) {
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		r.mu.Lock()
		if n > 0 {
			r.write(stream, buf[:n])
		}
		if err != nil {
			r.eof(stream)
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
}

func flushPipe(*os.File, int, *logRouter) {}
