package instance

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// wsgi27 is the python27 runner: a WSGI server for the version's
// `script: module.app` handlers, with google.appengine's bundled services
// answering 502 naming themselves.
//
//go:embed wsgi27.py
var wsgi27 []byte

// ScriptHeader names, on a request to a python27 instance, the script
// handler (module.app) that takes it.
const ScriptHeader = "X-Appcfg-Script"

// python27 returns how to start a python27 version: the runner under a
// local Python 2.7, with the SDK's bundled libraries where found.
func (m *Manager) python27(ctx context.Context, s Spec) (string, error) {
	py, err := m.findPython27(ctx)
	if err != nil {
		return "", fmt.Errorf("%s is python27, which needs a local Python 2.7 (python2.7 on PATH, or one installed with pyenv), and none was found: %w", s.Key, err)
	}
	sum := sha256.Sum256(wsgi27)
	runner := filepath.Join(m.cfg.CacheDir, "python27", "wsgi27-"+hex.EncodeToString(sum[:8])+".py")
	if _, err := os.Stat(runner); err != nil {
		if err := writeFileAtomic(runner, wsgi27); err != nil {
			return "", fmt.Errorf("%s: writing the python27 runner: %w", s.Key, err)
		}
	}
	args := []string{"exec", shellQuote(py), shellQuote(runner)}
	if lib := m.sdkLib(); lib != "" {
		args = append(args, "--sdk-lib", shellQuote(lib))
	}
	names := make([]string, 0, len(s.Libraries))
	for name := range s.Libraries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "--library", shellQuote(name+"="+s.Libraries[name]))
	}
	return strings.Join(args, " "), nil
}

// findPython27 finds a Python 2.7 that runs: pyenv's installed versions
// first (its shim on PATH answers only when 2.7 is selected), then
// python2.7 on PATH. The answer is kept for the manager's life.
func (m *Manager) findPython27(ctx context.Context) (string, error) {
	m.py27Once.Do(func() {
		var cands []string
		roots := []string{m.cfg.Getenv("PYENV_ROOT")}
		if home := m.cfg.Getenv("HOME"); home != "" {
			roots = append(roots, filepath.Join(home, ".pyenv"))
		}
		for _, r := range roots {
			if r == "" {
				continue
			}
			found, _ := filepath.Glob(filepath.Join(r, "versions", "2.7*", "bin", "python2.7"))
			sort.Sort(sort.Reverse(sort.StringSlice(found)))
			cands = append(cands, found...)
		}
		if p, err := lookPath("python2.7", m.cfg.Getenv("PATH")); err == nil {
			if dir := filepath.Dir(p); filepath.Base(dir) == "shims" {
				// pyenv's shim answers only when 2.7 is the selected
				// version (and slowly): look in its versions instead.
				found, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "versions", "2.7*", "bin", "python2.7"))
				cands = append(cands, found...)
			} else {
				cands = append(cands, p)
			}
		}
		for _, c := range cands {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := exec.CommandContext(ctx, c, "-c", "import sys; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)").Run()
			cancel()
			if err == nil {
				m.py27 = c
				return
			}
		}
		m.py27Err = fmt.Errorf("looked in PATH and pyenv's versions (%d candidates ran no Python 2.7)", len(cands))
	})
	return m.py27, m.py27Err
}

// sdkLib finds the library directory of an App Engine SDK on this
// machine (lib/NAME or lib/NAME-VERSION, each holding one library:
// webapp2, webob, jinja2 …), so python27 apps import them as on App
// Engine; "" when no SDK is found. The runner picks each library's version.
func (m *Manager) sdkLib() string {
	// A standalone SDK unpacked in the home directory first: the user
	// chose it, and it is older than gcloud's, so more of its libraries
	// still run on Python 2.7.
	var roots []string
	if home := m.cfg.Getenv("HOME"); home != "" {
		roots = append(roots, filepath.Join(home, "google_appengine"))
	}
	if g, err := lookPath("gcloud", m.cfg.Getenv("PATH")); err == nil {
		if real, err := filepath.EvalSymlinks(g); err == nil {
			roots = append(roots, filepath.Join(filepath.Dir(filepath.Dir(real)), "platform", "google_appengine"))
		}
	}
	roots = append(roots, "/usr/lib/google-cloud-sdk/platform/google_appengine", "/usr/local/google_appengine")
	for _, r := range roots {
		lib := filepath.Join(r, "lib")
		if fi, err := os.Stat(lib); err == nil && fi.IsDir() {
			return lib
		}
	}
	return ""
}

// writeFileAtomic writes a file whole or not at all.
func writeFileAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), name)
}
