package local

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// killedDirEnv, set, makes the test binary the process a kill test kills
// (killedAfter); its value is the store's directory.
const killedDirEnv = "APPCFG_TEST_KILLED_DIR"

// killedAfter runs write in a second process, this test binary running
// the calling test again, which kills itself (SIGKILL: no deferred call,
// no Close, no sync) once write returns; it returns the directory write
// was given, as that process left it. In the second process killedAfter
// never returns.
func killedAfter(t *testing.T, write func(dir string)) string {
	t.Helper()
	if dir := os.Getenv(killedDirEnv); dir != "" {
		write(dir)
		self, _ := os.FindProcess(os.Getpid())
		self.Kill() //nolint:errcheck // SIGKILL on Unix: no return
		select {}
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(os.Environ(), killedDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the process writing was to be killed; got %v\n%s", err, out)
	}
	return dir
}
