package main

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ghAction is the part of action.yml the test runs.
type ghAction struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Name  string            `yaml:"name"`
			If    string            `yaml:"if"`
			Uses  string            `yaml:"uses"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// TestAction runs the composite action at the repository root the way a
// GitHub runner does, on this machine: each step's script with bash, its
// inputs substituted, GITHUB_OUTPUT/GITHUB_PATH files per step. Its install
// step runs the real `go install github.com/appcfg/appcfg/cmd/appcfg@VERSION`
// against a module proxy on disk holding this checkout as VERSION (so the
// module path, the absence of replace directives and `appcfg version`
// reporting the module version are all checked), then its update step deploys
// the guestbook to a local store and the action's outputs are read back.
func TestAction(t *testing.T) {
	t.Parallel() // runs beside the other long tests: it mostly waits on go install and the deploy
	if testing.Short() {
		t.Skip("builds appcfg with go install (-short)")
	}
	for _, tool := range []string{"go", "git", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
	}
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a ghAction
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", a.Runs.Using)
	}
	for _, o := range []string{"url", "version", "service"} {
		if _, ok := a.Outputs[o]; !ok {
			t.Errorf("action.yml has no output %s", o)
		}
	}

	work := t.TempDir()
	proxy, version := moduleProxy(t, "../..")
	app := filepath.Join(work, "app")
	if err := copyTree("../../examples/guestbook", app); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HOME": filepath.Join(work, "home"), "XDG_DATA_HOME": filepath.Join(work, "data"),
		"XDG_CONFIG_HOME": filepath.Join(work, "config"), "XDG_CACHE_HOME": filepath.Join(work, "cache"),
		"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": work, "RUNNER_TEMP": work,
		"GOBIN": filepath.Join(work, "bin"), "GOPROXY": proxy, "GOSUMDB": "off", "GOFLAGS": "-buildvcs=false",
		"GOTOOLCHAIN": "local", "GOCACHE": goEnv(t, "GOCACHE"), "GOMODCACHE": goEnv(t, "GOMODCACHE"),
		"PATH": os.Getenv("PATH"),
	}
	inputs := map[string]string{}
	for name, in := range a.Inputs {
		inputs[name] = in.Default
	}
	inputs["go-version"] = "" // the Go of this machine: no actions/setup-go here
	inputs["version"] = version
	inputs["backend"] = "local:" + filepath.Join(work, "store")
	inputs["directory"] = app
	inputs["flags"] = "-V v1 --strict"

	outputs := runAction(t, a, inputs, env, work)
	if !strings.Contains(outputs["install"], "appcfg "+version+" (") {
		t.Errorf("the installed appcfg's version line does not name %s:\n%s", version, outputs["install"])
	}
	got := map[string]string{}
	for name, o := range a.Outputs {
		got[name] = expand(t, o.Value, inputs, outputs)
	}
	if got["version"] != "v1" || got["service"] != "default" || !strings.HasPrefix(got["url"], "http") {
		t.Errorf("the action's outputs are %q, want version v1, service default and a url", got)
	}
	summary, _ := os.ReadFile(filepath.Join(work, "summary-appcfg"))
	if !strings.Contains(string(summary), "| guestbook | default | v1 |") {
		t.Errorf("step summary:\n%s", summary)
	}

	// validate, and an input holding shell syntax stays data.
	inputs["command"] = "validate"
	inputs["flags"] = "--strict $(touch${IFS}" + filepath.Join(work, "pwned") + ")"
	runAction(t, a, inputs, env, work, "expect failure")
	if _, err := os.Stat(filepath.Join(work, "pwned")); err == nil {
		t.Error("an input was run as shell code")
	}
	inputs["flags"] = "--strict"
	runAction(t, a, inputs, env, work)
}

// runAction runs the steps of a; each step's GITHUB_OUTPUT is read into the
// result as "ID.NAME", and each script's combined output under its id (or
// "install" for the step that installs). With "expect failure", the last
// step must fail.
func runAction(t *testing.T, a ghAction, inputs, env map[string]string, work string, expect ...string) map[string]string {
	t.Helper()
	outputs := map[string]string{}
	pathFile := filepath.Join(work, "github_path")
	os.WriteFile(pathFile, nil, 0o644)
	for i, st := range a.Runs.Steps {
		if st.If != "" && !evalIf(t, st.If, inputs) {
			continue
		}
		if st.Uses != "" {
			t.Fatalf("step %d (%s) uses %s, which cannot run here: its if: must be false for the test's inputs", i, st.Name, st.Uses)
		}
		if st.Shell != "bash" {
			t.Fatalf("step %d (%s): shell %q, want bash", i, st.Name, st.Shell)
		}
		if strings.Contains(st.Run, "${{") {
			t.Fatalf("step %d (%s) splices an expression into its script; pass it through env", i, st.Name)
		}
		id := st.ID
		if id == "" {
			id = fmt.Sprintf("step%d", i)
		}
		if strings.Contains(st.Run, "go install") {
			id = "install"
		}
		script := filepath.Join(work, "script-"+id+".sh")
		if err := os.WriteFile(script, []byte(st.Run), 0o644); err != nil {
			t.Fatal(err)
		}
		outFile := filepath.Join(work, "output-"+id)
		os.WriteFile(outFile, nil, 0o644)
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = work
		path := env["PATH"]
		if extra, _ := os.ReadFile(pathFile); len(extra) > 0 {
			for _, p := range strings.Fields(string(extra)) {
				path = p + string(os.PathListSeparator) + path
			}
		}
		cmd.Env = []string{"PATH=" + path, "GITHUB_OUTPUT=" + outFile, "GITHUB_PATH=" + pathFile,
			"GITHUB_STEP_SUMMARY=" + filepath.Join(work, "summary-"+id)}
		for k, v := range env {
			if k != "PATH" {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		for k, v := range st.Env {
			cmd.Env = append(cmd.Env, k+"="+expand(t, v, inputs, outputs))
		}
		out, err := cmd.CombinedOutput()
		outputs[id] = string(out)
		last := i == len(a.Runs.Steps)-1
		if len(expect) > 0 && last {
			if err == nil {
				t.Errorf("step %s succeeded, want a failure:\n%s", id, out)
			}
			return outputs
		}
		if err != nil {
			t.Fatalf("step %s: %v\n%s", id, err, out)
		}
		for k, v := range readGitHubOutput(t, outFile) {
			outputs[id+"."+k] = v
		}
	}
	return outputs
}

var exprRE = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// expand substitutes the expressions the action uses: inputs.NAME and
// steps.ID.outputs.NAME.
func expand(t *testing.T, s string, inputs, outputs map[string]string) string {
	return exprRE.ReplaceAllStringFunc(s, func(m string) string {
		e := exprRE.FindStringSubmatch(m)[1]
		if name, ok := strings.CutPrefix(e, "inputs."); ok {
			return inputs[name]
		}
		if rest, ok := strings.CutPrefix(e, "steps."); ok {
			id, name, _ := strings.Cut(rest, ".outputs.")
			return outputs[id+"."+name]
		}
		t.Fatalf("expression %q: the test knows inputs.* and steps.*.outputs.* only", e)
		return ""
	})
}

// evalIf evaluates the conditions the action uses: inputs.NAME != ”.
func evalIf(t *testing.T, cond string, inputs map[string]string) bool {
	name, ok := strings.CutSuffix(strings.TrimSpace(cond), " != ''")
	if name, ok2 := strings.CutPrefix(name, "inputs."); ok && ok2 {
		return inputs[name] != ""
	}
	t.Fatalf("if: %q: the test knows inputs.NAME != '' only", cond)
	return false
}

// readGitHubOutput reads a GITHUB_OUTPUT file: NAME=VALUE lines and
// NAME<<DELIMITER blocks.
func readGitHubOutput(t *testing.T, path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for sc.Scan() && sc.Text() != delim {
				val = append(val, sc.Text())
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(line, "="); ok {
			out[name] = val
		}
	}
	return out
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// moduleProxy writes a GOPROXY directory serving the module at root (its
// git-tracked and untracked-but-not-ignored files, as a release would hold)
// and returns the GOPROXY value: that directory, then the module cache's
// download directory for the dependencies (no network). The version is
// named after the files' contents, so a run of an unchanged checkout
// extracts the module to the same directory of the module cache and
// `go install` finds its packages in the build cache instead of compiling
// the whole module again. The version is removed from the module cache
// when the test ends, unless another test process still uses it.
func moduleProxy(t *testing.T, root string) (proxy, version string) {
	t.Helper()
	const mod = "github.com/appcfg/appcfg"
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("listing the checkout's files: %v", err)
	}
	names := strings.Fields(string(files))
	sort.Strings(names)
	// Directories holding a go.mod of their own are other modules.
	var nested []string
	for _, n := range names {
		if strings.HasSuffix(n, "/go.mod") {
			nested = append(nested, strings.TrimSuffix(n, "go.mod"))
		}
	}
	type file struct {
		name string
		data []byte
	}
	var release []file
	sum := sha256.New()
files:
	for _, n := range names {
		for _, p := range nested {
			if strings.HasPrefix(n, p) {
				continue files
			}
		}
		b, err := os.ReadFile(filepath.Join(root, n))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the worktree
			}
			t.Fatal(err)
		}
		release = append(release, file{n, b})
		fmt.Fprintf(sum, "%q %d\n", n, len(b))
		sum.Write(b)
	}
	version = fmt.Sprintf("v0.0.0-test.h%x", sum.Sum(nil)[:10])

	dir := filepath.Join(t.TempDir(), "proxy")
	vdir := filepath.Join(dir, mod, "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	for _, f := range release {
		w, err := zw.Create(mod + "@" + version + "/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zf.Close()
	os.WriteFile(filepath.Join(vdir, version+".mod"), gomod, 0o644)
	os.WriteFile(filepath.Join(vdir, version+".info"), []byte(fmt.Sprintf(`{"Version":%q,"Time":%q}`, version, time.Now().UTC().Format(time.RFC3339))), 0o644)
	os.WriteFile(filepath.Join(vdir, "list"), []byte(version+"\n"), 0o644)

	cache := goEnv(t, "GOMODCACHE")
	ifSoleUser := shareModuleVersion(t, version)
	t.Cleanup(func() {
		ifSoleUser(func() {
			// The module cache keeps what go install extracted, read-only.
			extracted := filepath.Join(cache, mod+"@"+version)
			filepath.WalkDir(extracted, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					os.Chmod(p, 0o755)
				}
				return nil
			})
			os.RemoveAll(extracted)
			dl, _ := filepath.Glob(filepath.Join(cache, "cache", "download", mod, "@v", version+".*"))
			for _, p := range dl {
				os.Remove(p)
			}
		})
	})
	return "file://" + dir + ",file://" + filepath.Join(cache, "cache", "download"), version
}
