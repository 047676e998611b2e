package instance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// launch is how to start a version's process: a shell command, as App
// Engine runs an entrypoint (so $PORT expands), with the runtime's own
// additions to the environment.
type launch struct {
	shell string
	env   map[string]string
}

// InstallError is a dependency install or build that failed: the file it
// came from and the command that failed, with the end of its output.
type InstallError struct {
	Key     Key
	File    string
	Command string
	Err     error
	Output  string
}

func (e *InstallError) Error() string {
	msg := fmt.Sprintf("preparing %s: %s: `%s` failed: %v", e.Key, e.File, e.Command, e.Err)
	if e.Output != "" {
		msg += ":\n" + e.Output
	}
	return msg
}

func (e *InstallError) Unwrap() error { return e.Err }

// pythonDefault and the others are the runtimes' commands when app.yaml has
// no entrypoint (../shared/docs/runtimes.md §2).
const (
	pythonDefault = "exec gunicorn -b :$PORT main:app"
	nodeStart     = "exec npm start"
	nodeDefault   = "exec node server.js"
)

// prepare installs what the version needs (once per content, cached) and
// returns how to start it.
func (m *Manager) prepare(ctx context.Context, s Spec) (launch, error) {
	l := launch{shell: s.Entrypoint, env: map[string]string{}}
	path := m.cfg.Getenv("PATH")
	switch rt := s.Runtime; {
	case strings.HasPrefix(rt, "python3"):
		// Each line reaches the log of the request it was written for,
		// not a buffer's worth later.
		l.env["PYTHONUNBUFFERED"] = "1"
		if exists(s.Dir, "requirements.txt") {
			venv, err := m.pythonVenv(ctx, s)
			if err != nil {
				return l, err
			}
			path = filepath.Join(venv, "bin") + string(os.PathListSeparator) + path
			l.env["VIRTUAL_ENV"] = venv
		}
		if l.shell == "" {
			if _, err := lookPath("gunicorn", path); err != nil {
				return l, fmt.Errorf("%s has no entrypoint, so App Engine's default `gunicorn -b :$PORT main:app` runs it, and gunicorn is not installed here: "+
					"list gunicorn in requirements.txt, install it (pip install gunicorn), or give app.yaml an entrypoint such as `entrypoint: python3 main.py`", s.Key)
			}
			l.shell = pythonDefault
		}
	case strings.HasPrefix(rt, "nodejs"):
		// npm start would otherwise ask the registry for a newer npm.
		l.env["npm_config_update_notifier"] = "false"
		pkg, err := readPackageJSON(s.Dir)
		if err != nil {
			return l, fmt.Errorf("%s: %w", s.Key, err)
		}
		if len(pkg.Dependencies) > 0 {
			modules, err := m.nodeModules(ctx, s)
			if err != nil {
				return l, err
			}
			l.env["NODE_PATH"] = modules
		}
		if l.shell == "" {
			l.shell = nodeDefault
			if pkg.Scripts["start"] != "" {
				l.shell = nodeStart
			}
		}
	case rt == "python27":
		l.env["PYTHONUNBUFFERED"] = "1"
		shell, err := m.python27(ctx, s)
		if err != nil {
			return l, err
		}
		l.shell = shell
	case strings.HasPrefix(rt, "go1"):
		if l.shell == "" {
			bin, err := m.goBinary(ctx, s)
			if err != nil {
				return l, err
			}
			l.shell = "exec " + shellQuote(bin)
		}
	case strings.HasPrefix(rt, "php"):
		pl, err := m.php(ctx, s, path)
		if err != nil {
			return l, err
		}
		l = pl
	case strings.HasPrefix(rt, "ruby"):
		rl, err := m.ruby(ctx, s)
		if err != nil {
			return l, err
		}
		l = rl
	case strings.HasPrefix(rt, "java"):
		if l.shell == "" {
			jars, _ := filepath.Glob(filepath.Join(s.Dir, "*.jar"))
			if len(jars) != 1 {
				return l, fmt.Errorf("%s has no entrypoint and %d jar files at its root: App Engine runs the single jar with java -jar; deploy exactly one, or give app.yaml an entrypoint", s.Key, len(jars))
			}
			l.shell = "exec java -jar " + shellQuote(filepath.Base(jars[0]))
		}
	default:
		if l.shell == "" {
			return l, fmt.Errorf("%s (runtime %s) has no entrypoint, and the local host knows no default command for that runtime: give app.yaml an entrypoint", s.Key, rt)
		}
	}
	l.env["PATH"] = path
	return l, nil
}

// pythonVenv returns a venv with requirements.txt installed, made once per
// requirements content.
//
// The venv is made without pip, and the host's pip installs into it
// (pip --python, pip 22.3 and later): a venv with its own pip runs
// ensurepip, which installs and byte-compiles pip (and setuptools before
// Python 3.12) into every venv, about 6 s of CPU, four times what the
// install of a small requirements.txt costs; at a load of 35 that alone
// took minutes. A host python3 without a pip that can do that gets a
// venv with its own pip, as before.
func (m *Manager) pythonVenv(ctx context.Context, s Spec) (string, error) {
	req := filepath.Join(s.Dir, "requirements.txt")
	key, err := hashFiles(req)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(m.cfg.CacheDir, "python", key)
	install := []string{"install", "--disable-pip-version-check", "-q", "-r", req}
	return dir, m.once(dir, func() error {
		if err := m.run(ctx, s, "requirements.txt", s.Dir, "python3", "-m", "venv", "--without-pip", dir); err != nil {
			return err
		}
		err := m.run(ctx, s, "requirements.txt", s.Dir, "python3", append([]string{"-m", "pip", "--python", filepath.Join(dir, "bin", "python")}, install...)...)
		var ie *InstallError
		if !errors.As(err, &ie) || !hostPipUnusable(ie.Output) {
			return err
		}
		if err := m.run(ctx, s, "requirements.txt", s.Dir, filepath.Join(dir, "bin", "python"), "-m", "ensurepip", "--default-pip"); err != nil {
			return err
		}
		return m.run(ctx, s, "requirements.txt", s.Dir, filepath.Join(dir, "bin", "pip"), install...)
	})
}

// hostPipUnusable reports whether the output of python3 -m pip --python
// says the host has no pip, or one older than --python (22.3), rather than
// that the install failed.
func hostPipUnusable(output string) bool {
	return strings.Contains(output, "No module named pip") || strings.Contains(output, "no such option: --python")
}

// packageJSON is what the local host reads of package.json.
type packageJSON struct {
	Scripts      map[string]string `json:"scripts"`
	Dependencies map[string]string `json:"dependencies"`
}

func readPackageJSON(dir string) (packageJSON, error) {
	var p packageJSON
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("package.json: %w", err)
	}
	return p, nil
}

// nodeModules installs package.json's dependencies (npm ci with a lock
// file, as App Engine's build does; npm install without) into a cache
// directory kept per package.json and lock content; the app's files stay
// read-only, so the instance finds them through NODE_PATH.
func (m *Manager) nodeModules(ctx context.Context, s Spec) (string, error) {
	dir, _, err := m.installOnce(s, "node", "package.json", "package-lock.json", func(dir, file string) error {
		if file == "package-lock.json" {
			return m.run(ctx, s, file, dir, "npm", "ci", "--omit=dev", "--no-audit", "--no-fund")
		}
		return m.run(ctx, s, file, dir, "npm", "install", "--omit=dev", "--no-audit", "--no-fund")
	})
	return filepath.Join(dir, "node_modules"), err
}

// installOnce runs install, once per content of the version's manifest
// and lock file (when it has one), in a cache directory holding a copy of
// both (the app's files are read-only, and installers write beside
// them). install hears the directory and the file it installs from: the
// lock, else the manifest.
func (m *Manager) installOnce(s Spec, kind, manifest, lock string, install func(dir, file string) error) (dir, file string, err error) {
	files := []string{filepath.Join(s.Dir, manifest)}
	file = manifest
	if exists(s.Dir, lock) {
		files = append(files, filepath.Join(s.Dir, lock))
		file = lock
	}
	key, err := hashFiles(files...)
	if err != nil {
		return "", "", err
	}
	dir = filepath.Join(m.cfg.CacheDir, kind, key)
	return dir, file, m.once(dir, func() error {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		for _, f := range files {
			if err := copyFile(f, filepath.Join(dir, filepath.Base(f))); err != nil {
				return err
			}
		}
		return install(dir, file)
	})
}

// goBinary builds the version's main package (app.yaml's main:, else the
// root) with go build, once per content; modules come through the
// user's Go module cache.
func (m *Manager) goBinary(ctx context.Context, s Spec) (string, error) {
	// The layout's name hashes the deployed files, so services deploying
	// the same files share one build.
	sum := sha256.Sum256([]byte(deploymentID(s.Dir) + "\x00" + s.Main))
	dir := filepath.Join(m.cfg.CacheDir, "go", hex.EncodeToString(sum[:12]))
	bin := filepath.Join(dir, "app")
	pkg := "."
	if s.Main != "" {
		pkg = "./" + strings.TrimPrefix(filepath.ToSlash(filepath.Clean(s.Main)), "./")
	}
	file := "go.mod"
	if !exists(s.Dir, "go.mod") {
		file = "the Go files"
	}
	return bin, m.once(dir, func() error {
		return m.run(ctx, s, file, s.Dir, "go", "build", "-o", bin, pkg)
	})
}

// once runs prepare unless dir was prepared before (a marker file says
// so); a failed prepare leaves nothing behind.
func (m *Manager) once(dir string, prepare func() error) error {
	m.prepMu.Lock()
	defer m.prepMu.Unlock()
	marker := dir + ".ok"
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := prepare(); err != nil {
		os.RemoveAll(dir)
		return err
	}
	return os.WriteFile(marker, nil, 0o600)
}

// run runs a preparing command in the user's environment (proxies,
// caches) plus build_env_variables, and turns a failure into an
// InstallError naming file.
func (m *Manager) run(ctx context.Context, s Spec, file, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = hostEnv()
	for k, v := range s.BuildEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if name == "go" && !exists(s.Dir, "go.mod") {
		cmd.Env = append(cmd.Env, "GO111MODULE=off") // App Engine's GOPATH mode
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if m.cfg.Notify != nil {
		m.cfg.Notify(fmt.Sprintf("%s: running %s", s.Key, strings.Join(append([]string{filepath.Base(name)}, args...), " ")))
	}
	if err := cmd.Run(); err != nil {
		return &InstallError{Key: s.Key, File: file, Command: strings.Join(append([]string{filepath.Base(name)}, args...), " "), Err: err, Output: tail(out.String(), 8)}
	}
	return nil
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func hashFiles(files ...string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(f), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// lookPath finds an executable in a PATH list other than serve's own.
func lookPath(name, path string) (string, error) {
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
