package instance

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line, msg, trace string
		level            backend.Severity
	}{
		{"plain text", "plain text", "", backend.Info},
		{`{"severity":"warning","message":"low disk"}`, "low disk", "", backend.Warning},
		{`{"severity":"CRITICAL","message":"down","logging.googleapis.com/trace":"projects/p/traces/abc"}`, "down", "projects/p/traces/abc", backend.Critical},
		{`{"severity":"NOTICE","message":"n"}`, "n", "", backend.Info},
		{`{"severity":"DEBUG"}`, `{"severity":"DEBUG"}`, "", backend.Debug},
		{`{"severity":"LOUD","message":"m"}`, "m", "", backend.Info},
		{`{not json`, `{not json`, "", backend.Info},
	}
	for _, tt := range tests {
		l, trace := parseLine(tt.line)
		if l.Message != tt.msg || l.Level != tt.level || trace != tt.trace {
			t.Errorf("parseLine(%q) = %q %v %q, want %q %v %q", tt.line, l.Message, l.Level, trace, tt.msg, tt.level, tt.trace)
		}
	}
}

// Lines go to the request their trace names, else the oldest in flight,
// else to the orphan sink; a line split across reads is one line.
func TestLogRouter(t *testing.T) {
	var orphans []string
	r := newLogRouter(time.Now, func(l backend.AppLogLine) { orphans = append(orphans, l.Message) })
	r.write(0, []byte("before any request\n"))
	a, b := r.begin("aaa"), r.begin("bbb")
	r.write(0, []byte(`{"message":"for b","logging.googleapis.com/trace":"projects/p/traces/bbb"}`+"\nhalf "))
	r.write(0, []byte("a line\n"))
	if got := r.end(b); len(got) != 1 || got[0].Message != "for b" {
		t.Errorf("b's lines: %+v", got)
	}
	if got := r.end(a); len(got) != 1 || got[0].Message != "half a line" {
		t.Errorf("a's lines: %+v", got)
	}
	if len(orphans) != 1 || orphans[0] != "before any request" {
		t.Errorf("orphans: %q", orphans)
	}
}

func TestEnvironBuiltFromScratch(t *testing.T) {
	host := map[string]string{"PATH": "/usr/bin", "HOME": "/home/u", "APPCFG_BACKEND": "local:/x", "AWS_SECRET_ACCESS_KEY": "s"}
	s := Spec{Project: "p", Key: Key{Service: "api", Version: "v1"}, Runtime: "nodejs20", Dir: "/store/run/p/api/v1/abcd",
		Env: map[string]string{"A": "1", "GAE_SERVICE": "forged"}, Scaling: Basic}
	env := map[string]string{}
	for _, kv := range s.environ(func(k string) string { return host[k] }, "dev", "inst1", 4242, map[string]string{"PATH": "/venv/bin:/usr/bin"}) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	want := map[string]string{"PORT": "4242", "GAE_APPLICATION": "dev~p", "GAE_SERVICE": "api", "GAE_VERSION": "v1",
		"GAE_INSTANCE": "inst1", "GAE_RUNTIME": "nodejs20", "GAE_ENV": "standard", "GOOGLE_CLOUD_PROJECT": "p",
		"GAE_DEPLOYMENT_ID": "abcd", "GAE_MEMORY_MB": "768", "NODE_ENV": "production", "A": "1", "HOME": "/home/u", "PATH": "/venv/bin:/usr/bin"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	if len(env) != len(want) {
		t.Errorf("environment has %d variables, want exactly %d: %v", len(env), len(want), env)
	}
}

// A dependency install that cannot reach its registry is one error naming
// the file and the command, and leaves no half-made cache behind.
func TestInstallFailureNamesFileAndCommand(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH: this test installs requirements.txt into a venv")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("surely-not-a-package-xyz==1.0\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PIP_NO_INDEX", "1") // as with no registry reachable, at once
	cache := t.TempDir()
	m, err := NewManager(Config{CacheDir: cache, StartTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Get(t.Context(), Spec{Project: "p", Key: Key{Service: "default", Version: "v1"}, Runtime: "python312",
		Entrypoint: "exec python3 main.py", Dir: dir})
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("Get = %v, want an InstallError", err)
	}
	if ie.File != "requirements.txt" || !strings.Contains(ie.Command, "pip --python ") || !strings.Contains(ie.Command, " install ") ||
		!strings.Contains(err.Error(), "surely-not-a-package-xyz") {
		t.Errorf("error %q: want requirements.txt, the pip command and pip's reason", err)
	}
	left, _ := filepath.Glob(filepath.Join(cache, "python", "*"))
	if len(left) != 0 {
		t.Errorf("the failed install left %v", left)
	}
}

// The venv for requirements.txt is made without pip, the host's pip
// installing into it: ensurepip, which put pip (and setuptools) into each
// venv, cost about 6 s of CPU, which made TestInstallFailureNamesFileAndCommand
// outlast its start timeout at a load of 35. The venv's python runs the
// app, with nothing installed that the file does not list.
func TestVenvWithoutItsOwnPip(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH: this test makes a venv")
	}
	if err := exec.Command("python3", "-m", "pip", "--version").Run(); err != nil {
		t.Skip("python3 has no pip: the venv gets its own (ensurepip), as before")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("# nothing to install\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PIP_NO_INDEX", "1") // never the network
	m, err := NewManager(Config{CacheDir: t.TempDir(), StartTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	venv, err := m.pythonVenv(t.Context(), Spec{Project: "p", Key: Key{Service: "default", Version: "v1"}, Runtime: "python312", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(venv, "bin", "python"), "-c", "import sys, importlib.util; print(sys.prefix == sys.base_prefix, importlib.util.find_spec('pip') is None)").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "False True" {
		t.Fatalf("the venv's python says %q (%v); want a venv (prefix not the base) without pip", out, err)
	}
}
