//go:build unix

package dsemulator

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// DefaultScript is where google-cloud-cli-datastore-emulator installs the
// emulator; $APPCFG_DATASTORE_EMULATOR overrides it.
const DefaultScript = "/usr/lib/google-cloud-sdk/platform/cloud-datastore-emulator/cloud_datastore_emulator"

// startTimeout bounds the JVM start (about 2 s when idle, more under the
// race detector on two loaded cores).
const startTimeout = 2 * time.Minute

// javaOptions are given to the emulator's JVM ahead of the user's own
// JDK_JAVA_OPTIONS (which win): C1 only and the serial collector cut the
// emulator's CPU time in the tests by more than half (see the package doc).
const javaOptions = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

// Emulator is a running emulator.
type Emulator struct {
	// Host is its host:port on 127.0.0.1.
	Host string

	cmd    *exec.Cmd
	exited chan error
	once   sync.Once
}

// Start starts an emulator and waits until it answers. skip is not empty
// (and err nil) when the emulator or Java is missing: the caller skips
// with it.
func Start() (e *Emulator, skip string, err error) {
	script := os.Getenv("APPCFG_DATASTORE_EMULATOR")
	if script == "" {
		script = DefaultScript
	}
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Sprintf("the Datastore emulator is not installed (%v); install google-cloud-cli-datastore-emulator or set APPCFG_DATASTORE_EMULATOR to its cloud_datastore_emulator script", err), nil
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "CloudDatastore.jar")); err != nil {
		return nil, fmt.Sprintf("the Datastore emulator's CloudDatastore.jar is missing next to %s", script), nil
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, "the Datastore emulator needs Java (17 or later), and java is not on PATH", nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(script, "start", "--testing", "--host=127.0.0.1", "--port="+strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "JDK_JAVA_OPTIONS="+strings.TrimSpace(javaOptions+" "+os.Getenv("JDK_JAVA_OPTIONS")))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The script runs java as a child: a process group lets Stop end both
	// by the group id it created.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting the Datastore emulator: %w", err)
	}
	e = &Emulator{Host: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd, exited: make(chan error, 1)}
	go func() { e.exited <- cmd.Wait() }()

	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := http.Get("http://" + e.Host + "/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.HasPrefix(body, []byte("Ok")) {
				return e, "", nil
			}
		}
		select {
		case err := <-e.exited:
			e.exited <- err
			return nil, "", fmt.Errorf("the Datastore emulator exited before it was ready (%v):\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, "", fmt.Errorf("the Datastore emulator was not ready after %s:\n%s", startTimeout, out.String())
		}
	}
}

// Stop ends the emulator and every process it started (SIGTERM, then
// SIGKILL after 15 s). Calling it again does nothing.
func (e *Emulator) Stop() {
	e.once.Do(func() {
		pgid := e.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(15 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-e.exited
		}
	})
}

// CPU is the CPU time (user and system) the emulator's processes used so
// far, read from /proc; 0 where there is none.
func (e *Emulator) CPU() time.Duration {
	pgid := e.cmd.Process.Pid
	ents, _ := os.ReadDir("/proc")
	var ticks int64
	for _, d := range ents {
		data, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name (which may hold blanks):
		// state ppid pgrp … utime (14th of the line) stime (15th).
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 > len(s) {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) < 13 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g != pgid {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	// USER_HZ is 100 on every Linux that Go supports.
	return time.Duration(ticks) * 10 * time.Millisecond
}

// Shared is one emulator for a whole test process: the first Host starts
// it, and the package's TestMain calls Stop after m.Run. The zero value is
// ready to use.
type Shared struct {
	once sync.Once
	e    *Emulator
	skip string
	err  error
	apps atomic.Int64
}

// Host returns the shared emulator's host:port, starting it on first use.
// It skips t where the emulator or Java is missing, and with -short.
func (s *Shared) Host(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("the Datastore emulator takes seconds to start; skipped with -short")
	}
	s.once.Do(func() { s.e, s.skip, s.err = Start() })
	switch {
	case s.skip != "":
		t.Skip(s.skip)
	case s.err != nil:
		t.Fatal(s.err)
	}
	return s.e.Host
}

// App returns a project id, starting with base, that no other caller of
// this Shared uses: tests sharing the emulator, and the runs of one test
// under -count, never see each other's entities.
func (s *Shared) App(base string) string {
	return fmt.Sprintf("%s-%d", base, s.apps.Add(1))
}

// Stop stops the emulator if it was started. With
// $APPCFG_EMULATOR_CPU set it first prints the CPU time the emulator used
// to standard error, to measure the tests' cost on a loaded machine.
func (s *Shared) Stop() {
	if s.e == nil {
		return
	}
	if os.Getenv("APPCFG_EMULATOR_CPU") != "" {
		fmt.Fprintf(os.Stderr, "the Datastore emulator used %s of CPU\n", s.e.CPU().Round(10*time.Millisecond))
	}
	s.e.Stop()
}

// syncBuffer collects a child's output from two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
