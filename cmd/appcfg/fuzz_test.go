package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLsFiles runs the whole ls_files path, configuration and tree: an
// app.yaml, a .gcloudignore (when not empty) and a tree of files named by
// the lines of paths. Whatever they hold, appcfg must answer with a result
// or a message (exit 0 or 1), never panic (exit 70). Crashers found are
// kept as seeds in testdata/fuzz/FuzzLsFiles.
func FuzzLsFiles(f *testing.F) {
	f.Add("runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  script: main.app\n",
		"main.py\n.hidden\nstatic/a.css\nx.pyc", "")
	f.Add("runtime: python27\napi_version: 1\nthreadsafe: true\nskip_files:\n- ^a$\n- ^(.*/)?b\\.txt$\nhandlers:\n- url: /.*\n  script: main.app\n",
		"a\nb.txt\nc/b.txt\nmain.py", "")
	f.Add("runtime: python312\n", "main.py\nnode_modules/x.js\n.git/HEAD\nkey.pem", "*.js\n!keep.js\n#!include:.gitignore\n")
	f.Add("runtime: go122\nincludes:\n- inc.yaml\n", "main.go\ninc.yaml", "")
	f.Fuzz(func(t *testing.T, appYAML, paths, ignore string) {
		dir := t.TempDir()
		app := filepath.Join(dir, "app")
		if err := os.Mkdir(app, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(app, "app.yaml"), []byte(appYAML), 0o644); err != nil {
			t.Fatal(err)
		}
		if ignore != "" {
			if err := os.WriteFile(filepath.Join(app, ".gcloudignore"), []byte(ignore), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for i, p := range strings.Split(paths, "\n") {
			if i == 16 {
				break
			}
			rel := fuzzRel(p)
			if rel == "" {
				continue
			}
			full := filepath.Join(app, rel)
			if os.MkdirAll(filepath.Dir(full), 0o755) != nil {
				continue // a file where a directory is wanted: skip the path
			}
			_ = os.WriteFile(full, []byte(p), 0o644)
		}
		for _, args := range [][]string{{"ls_files", "--skipped", app}, {"ls_files", "--json", app}} {
			code, _, stderr := runCLI(t, args...)
			if code != exitOK && code != exitFailure {
				t.Fatalf("appcfg %s: exit %d\nstderr:\n%s", strings.Join(args, " "), code, stderr)
			}
		}
	})
}

// fuzzRel makes a fuzzed line a short relative path inside the app, or ""
// when it cannot be one (absolute, leaving the app, or naming app.yaml).
func fuzzRel(p string) string {
	if len(p) > 64 || strings.ContainsRune(p, 0) {
		return ""
	}
	rel := filepath.Clean(filepath.FromSlash(p))
	if rel == "." || filepath.IsAbs(rel) || !filepath.IsLocal(rel) || rel == "app.yaml" || rel == ".gcloudignore" {
		return ""
	}
	return rel
}
