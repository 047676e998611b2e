package skipfiles

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/corpus"
	"github.com/appcfg/appcfg/internal/sdktest"
	"github.com/appcfg/appcfg/internal/testtree"
)

// refResult is the output of scripts/skipfiles_ref.py.
type refResult struct {
	Mode      string    `json:"mode"`
	Files     []string  `json:"files"`
	Runtime   string    `json:"runtime"`
	Env       string    `json:"env"`
	SkipFiles *[]string `json:"skip_files"`
	Error     string    `json:"error"`
	Exception string    `json:"exception"`
}

// runRefs runs scripts/skipfiles_ref.py once for all of dirs (each with
// its app.yaml): the SDK's import is most of a run's cost.
func runRefs(t *testing.T, py string, dirs ...string) []refResult {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "..", "scripts", "skipfiles_ref.py")
	cmd := exec.Command(py, append([]string{script, "--each"}, dirs...)...)
	cmd.Env = append(os.Environ(), "CLOUDSDK_CONFIG="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skipfiles_ref.py --each %s: %v\n%s", strings.Join(dirs, " "), err, out)
	}
	var refs []refResult
	for line := range strings.Lines(string(out)) {
		var r refResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("skipfiles_ref.py output: %v\n%s", err, out)
		}
		refs = append(refs, r)
	}
	if len(refs) != len(dirs) {
		t.Fatalf("skipfiles_ref.py gave %d results for %d apps:\n%s", len(refs), len(dirs), out)
	}
	return refs
}

// TestOracleCorpusApps compares the upload set of every whole app of the
// corpus with the one the SDK computes with Python's re on the same rules.
func TestOracleCorpusApps(t *testing.T) {
	dir := corpus.Dir()
	if dir == "" {
		t.Skip("shared corpus not found; set APPCFG_CORPUS")
	}
	py, _ := sdktest.Python(t)
	apps, err := filepath.Glob(filepath.Join(dir, "apps", "*", "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	nested, _ := filepath.Glob(filepath.Join(dir, "apps", "*", "*", "app.yaml"))
	apps = append(apps, nested...)
	roots := make([]string, len(apps))
	for i, app := range apps {
		roots[i] = filepath.Dir(app)
	}
	refs := runRefs(t, py, roots...)
	agree, refused := 0, 0
	for i, app := range apps {
		root, ref := roots[i], refs[i]
		if ref.Error != "" {
			t.Logf("%s: the SDK refuses the app (%s: %s); nothing to compare", root, ref.Exception, ref.Error)
			continue
		}
		opts := Options{Runtime: ref.Runtime, Env: ref.Env, SkipFilesSource: app}
		if ref.SkipFiles != nil {
			opts.SkipFiles = *ref.SkipFiles
		}
		res, err := Walk(context.Background(), root, opts, nil)
		var perr *Error
		if err != nil && errors.As(err, &perr) && perr.Has(ProblemPattern) {
			// A construct RE2 cannot run must be refused by name.
			if !strings.Contains(perr.Error(), "cannot be run by Go's regular expressions") {
				t.Errorf("%s: pattern refused without naming the construct: %v", root, err)
			}
			t.Logf("%s: refused as expected: %v", root, err)
			refused++
			continue
		}
		if res == nil {
			t.Errorf("%s: %v", root, err)
			continue
		}
		if err != nil && !errors.As(err, &perr) {
			t.Errorf("%s: %v", root, err)
			continue
		}
		got := make([]string, len(res.Files))
		for i, f := range res.Files {
			got[i] = f.Path
		}
		if res.Matcher.Mode() != Mode(ref.Mode) {
			t.Errorf("%s: mode %q, SDK %q", root, res.Matcher.Mode(), ref.Mode)
		}
		if d := diffSets(got, ref.Files); d != "" {
			t.Errorf("%s: upload set differs from the SDK's:\n%s", root, d)
			continue
		}
		agree++
	}
	t.Logf("corpus apps: %d agree with the SDK, %d refused for an RE2-incompatible pattern, of %d", agree, refused, len(apps))
	if agree == 0 {
		t.Error("no app compared")
	}
}

// diffSets lists paths only in got (+) or only in want (-).
func diffSets(got, want []string) string {
	in := map[string]int{}
	for _, g := range got {
		in[g] |= 1
	}
	for _, w := range want {
		in[w] |= 2
	}
	var b strings.Builder
	n := 0
	for _, p := range append(append([]string{}, got...), want...) {
		switch in[p] {
		case 1:
			b.WriteString("  + " + p + " (only ours)\n")
		case 2:
			b.WriteString("  - " + p + " (only the SDK's)\n")
		default:
			continue
		}
		in[p] = 0
		if n++; n == 30 {
			b.WriteString("  ...\n")
			break
		}
	}
	return b.String()
}

// TestOracleGenerated compares with the SDK on a generated tree and
// skip_files lists that use Python-only syntax.
func TestOracleGenerated(t *testing.T) {
	py, _ := sdktest.Python(t)
	tree := []string{"main.py", "main.pyc", "lib/a.py", "lib/a.pyc", "lib/sub/b.txt", "static/x.css", "static/img/y.png",
		"README", "ReadMe.md", "tests/t1.py", "tests/data/d.json", "a~", "#x#", ".hidden/h", "RCS/v", "d/RCS/v",
		"node_modules/m/i.js", "x{y}", "123.txt", "café.txt", "notes.bak", "build/out.o", "docs/a.md"}
	lists := [][]string{
		nil,
		{`^(.*/)?.*\.py[co]$`, `^(?P<top>tests|docs)/.*\Z`},
		{`(?i)readme.*`, `^[[:alpha:]]+$`, `^\d+\.txt$`, `^.*\.bak$`},
		{`^lib/(?:sub/)?[a-z]{,3}\.(py|txt)$`, `x{y}`, `^static/img`},
		{`^(.*/)?RCS(/.*)?$`, `^node_modules$`, `caf\u00e9`, `^build/.*\.o$`},
		{`^$`},
	}
	dirs := make([]string, len(lists))
	for i, list := range lists {
		dirs[i] = t.TempDir()
		for _, p := range tree {
			testtree.WriteFile(t, dirs[i], p, "x")
		}
		yaml := "runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  script: main.app\n"
		if list != nil {
			yaml += "skip_files:\n"
			for _, p := range list {
				yaml += "- '" + strings.ReplaceAll(p, "'", "''") + "'\n"
			}
		}
		testtree.WriteFile(t, dirs[i], "app.yaml", yaml)
	}
	refs := runRefs(t, py, dirs...)
	for i, list := range lists {
		dir, ref := dirs[i], refs[i]
		if ref.Error != "" {
			t.Fatalf("list %d: the SDK refuses it: %s", i, ref.Error)
		}
		opts := Options{Runtime: "python27", SkipFilesSource: "app.yaml"}
		if ref.SkipFiles != nil {
			opts.SkipFiles = *ref.SkipFiles
		}
		res, err := Walk(context.Background(), dir, opts, nil)
		if res == nil {
			t.Fatalf("list %d: %v", i, err)
		}
		got := make([]string, len(res.Files))
		for j, f := range res.Files {
			got[j] = f.Path
		}
		// gcloud's FileIterator has no .py/.pyc rule; ours drops a .pyc
		// listed beside its .py (skipped or not) for python27, with a
		// warning, as appcfg.py's FileIterator did.
		var want []string
		for _, f := range ref.Files {
			if strings.HasSuffix(f, ".pyc") && contains(tree, strings.TrimSuffix(f, "c")) {
				continue
			}
			want = append(want, f)
		}
		if d := diffSets(got, want); d != "" {
			t.Errorf("list %d %q: differs from the SDK:\n%s", i, list, d)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
