//go:build unix

package appengine

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// datastoreEmulator starts the real Datastore emulator (google-apis.md
// §7.2) for the entity tests and returns its base URL, or "" and why not
// when the emulator or Java is missing. The emulator has no index admin
// API, so the fake keeps serving that part.
func datastoreEmulator(t *testing.T) (string, string) {
	t.Helper()
	if testing.Short() {
		return "", "the Datastore emulator takes seconds to start; skipped with -short"
	}
	script := os.Getenv("APPCFG_DATASTORE_EMULATOR")
	if script == "" {
		script = "/usr/lib/google-cloud-sdk/platform/cloud-datastore-emulator/cloud_datastore_emulator"
	}
	if _, err := os.Stat(script); err != nil {
		return "", "entity tests need the Datastore emulator (google-cloud-cli-datastore-emulator): " + err.Error()
	}
	if _, err := exec.LookPath("java"); err != nil {
		return "", "entity tests need Java for the Datastore emulator"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(script, "start", "--testing", "--host=127.0.0.1", "--port="+strconv.Itoa(port))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the JVM is the script's child
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the Datastore emulator: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for start := time.Now(); time.Since(start) < 2*time.Minute; time.Sleep(100 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("the Datastore emulator exited:\n%s", log.String())
		default:
		}
		if resp, err := http.Get(base + "/"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if bytes.HasPrefix(body, []byte("Ok")) {
				return base, ""
			}
		}
	}
	t.Fatal("the Datastore emulator was not ready after 2 minutes")
	return "", ""
}
