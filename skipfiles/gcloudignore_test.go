package skipfiles

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/appcfg/appcfg/internal/corpus"
	"github.com/appcfg/appcfg/internal/testtree"
)

func TestIgnoreMatching(t *testing.T) {
	tests := []struct {
		rules string
		path  string
		dir   bool
		skip  bool
	}{
		{"*.log", "a.log", false, true},
		{"*.log", "deep/dir/a.log", false, true},
		{"*.log\n!keep.log", "keep.log", false, false},
		{"*.log\n!keep.log", "x/keep.log", false, false},
		{"/vendor/", "vendor", true, true},
		{"/vendor/", "vendor", false, false},
		{"/vendor/", "src/vendor", true, false},
		{"node_modules/", "a/node_modules", true, true},
		{"docs/*.md", "docs/a.md", false, true},
		{"docs/*.md", "x/docs/a.md", false, true}, // gcloud: a middle slash does not anchor
		{"**/tmp", "a/b/tmp", true, true},
		{"build/**", "build/x/y", false, true},
		{"a/**/z", "a/b/c/z", false, true},
		{"a/**/z", "a/z", false, true},
		{"\\#notes", "#notes", false, true},
		{"\\!bang", "!bang", false, true},
		{"trailing\\ ", "trailing ", false, true},
		{"trailing   ", "trailing", false, true},
		{"[!a]*.txt", "b.txt", false, true},
		{"[!a]*.txt", "a.txt", false, false},
		{"[^a].txt", "^.txt", false, true}, // fnmatch: "^" is literal in a set
		{"{a,b}.txt", "{a,b}.txt", false, true},
		{"{a,b}.txt", "a.txt", false, false},
		{"[abc", "[abc", false, true},
		{"?.py", "a.py", false, true},
		{"?.py", "ab.py", false, false},
		{"# comment", "# comment", false, false},
		{".*", ".env", false, true},
	}
	for _, tt := range tests {
		pats, err := parseIgnore("test", tt.rules, ".", 0, KindIgnoreFile)
		if err != nil {
			t.Fatalf("%q: %v", tt.rules, err)
		}
		r := &ignoreRules{pats: pats}
		skip, _, _ := r.explain(tt.path, tt.dir)
		if skip != tt.skip {
			t.Errorf("rules %q, path %q (dir %v): skip %v, want %v", tt.rules, tt.path, tt.dir, skip, tt.skip)
		}
	}
}

func TestIgnoreParentCannotBeReincluded(t *testing.T) {
	pats, err := parseIgnore("test", "logs/\n!logs/keep.txt", ".", 0, KindIgnoreFile)
	if err != nil {
		t.Fatal(err)
	}
	skip, via, rule := (&ignoreRules{pats: pats}).explain("logs/keep.txt", false)
	if !skip || via != "logs" || rule == nil || rule.Line != 1 {
		t.Errorf("explain = %v via %q rule %v; want skipped via logs by line 1", skip, via, rule)
	}
}

func TestIgnoreInclude(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, ".gitignore", "*.tmp\n#!include:other\n")
	testtree.WriteFile(t, dir, "other", "never\n")
	testtree.WriteFile(t, dir, ".gcloudignore", "a.txt\n# !include:.gitignore\n")
	ig, err := parseIgnoreFile(filepath.Join(dir, ".gcloudignore"), KindIgnoreFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(ig.pats) != 2 || ig.pats[1].rule.File != filepath.Join(dir, ".gitignore") || ig.pats[1].rule.Line != 1 {
		t.Fatalf("patterns %+v; want a.txt then *.tmp from .gitignore line 1 (nested includes ignored)", ig.pats)
	}
	testtree.WriteFile(t, dir, ".gcloudignore", "#!include:sub/x\n")
	_, err = parseIgnoreFile(filepath.Join(dir, ".gcloudignore"), KindIgnoreFile)
	var bad *BadIgnoreFileError
	if !errors.As(err, &bad) || bad.Line != 1 || !strings.Contains(bad.Msg, "same directory") {
		t.Errorf("include with a slash: %v", err)
	}
	testtree.WriteFile(t, dir, ".gcloudignore", "x\n#!include:missing\n")
	_, err = parseIgnoreFile(filepath.Join(dir, ".gcloudignore"), KindIgnoreFile)
	if !errors.As(err, &bad) || bad.Line != 2 {
		t.Errorf("missing include: %v", err)
	}
}

// gcloudCases are ignore files tried on a generated tree and on the corpus
// apps against `gcloud meta list-files-for-upload`.
var gcloudCases = []string{
	"*.py\n!main.py\n",
	"/static/\n*.md\n\\#*\n",
	"**/test*\n!tests/keep/\nlib/**\n",
	"*\n!*/\n!*.yaml\n",
	"[!m]*.py\n?.txt\ndocs/*.md\n",
	".*\n!.keep\ntemplates\n",
}

// TestGcloudListFilesForUpload compares our ignore-file upload set with
// gcloud's own, for generated cases and the corpus apps.
func TestGcloudListFilesForUpload(t *testing.T) {
	gcloud := findGcloud()
	if gcloud == "" {
		t.Skip("gcloud not installed (/usr/bin/gcloud or /usr/lib/google-cloud-sdk/bin/gcloud); skipping the comparison")
	}
	if testing.Short() {
		t.Skip("-short: gcloud takes about a second per run")
	}
	gen := t.TempDir()
	for _, p := range []string{"main.py", "util.py", "app.yaml", "README.md", "#notes#", "a.txt", "ab.txt",
		"static/css/x.css", "static/index.html", "docs/a.md", "docs/deep/b.md", "tests/test_a.py", "tests/keep/k.py",
		"lib/x/y.py", "src/test_util.py", "templates/t.html", "x/templates/u.html", ".keep", ".hidden/z", "m.py", "n.py"} {
		testtree.WriteFile(t, gen, p, "x")
	}
	type run struct{ name, dir, ignore string }
	var runs []run
	for i, c := range gcloudCases {
		runs = append(runs, run{name: "generated" + string(rune('A'+i)), dir: gen, ignore: c})
	}
	if dir := corpus.Dir(); dir != "" {
		apps, _ := filepath.Glob(filepath.Join(dir, "apps", "*"))
		for i, app := range apps {
			// gcloud's own generated file for a git checkout, then a case.
			ignore := "#!include:.gitignore\n.git\n.gitignore\n.gcloudignore\n"
			if i%2 == 1 {
				ignore = gcloudCases[i%len(gcloudCases)]
			}
			runs = append(runs, run{name: filepath.Base(app), dir: app, ignore: ignore})
		}
	}
	// One subtest per case, in parallel: a gcloud run is a second or more
	// of Python start-up, mostly spent waiting on the disk.
	var agree atomic.Int64
	t.Run("cases", func(t *testing.T) {
		for _, r := range runs {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				tmp := t.TempDir()
				copyTree(t, r.dir, tmp)
				if _, err := os.Stat(filepath.Join(tmp, ".gitignore")); err != nil && strings.Contains(r.ignore, ".gitignore\n") {
					testtree.WriteFile(t, tmp, ".gitignore", "")
				}
				testtree.WriteFile(t, tmp, ".gcloudignore", r.ignore)
				want := gcloudList(t, gcloud, tmp)
				res, err := Walk(context.Background(), tmp, Options{Limits: Limits{-1, -1, -1}, AllowSecrets: true}, nil)
				if err != nil {
					t.Fatalf("%s: %v", r.name, err)
				}
				got := make([]string, len(res.Files))
				for i, f := range res.Files {
					got[i] = f.Path
				}
				if d := diffSets(got, want); d != "" {
					t.Fatalf("%s with .gcloudignore %q: differs from gcloud:\n%s", r.name, r.ignore, d)
				}
				agree.Add(1)
			})
		}
	})
	t.Logf("gcloud meta list-files-for-upload: %d of %d cases agree", agree.Load(), len(runs))
}

func findGcloud() string {
	for _, p := range []string{"/usr/bin/gcloud", "/usr/lib/google-cloud-sdk/bin/gcloud"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("gcloud"); err == nil {
		return p
	}
	return ""
}

func gcloudList(t *testing.T, gcloud, dir string) []string {
	t.Helper()
	cmd := exec.Command(gcloud, "meta", "list-files-for-upload", dir, "--quiet")
	cmd.Env = append(os.Environ(), "CLOUDSDK_CONFIG="+t.TempDir(), "CLOUDSDK_CORE_DISABLE_PROMPTS=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gcloud meta list-files-for-upload %s: %v", dir, err)
	}
	var files []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			files = append(files, filepath.ToSlash(l))
		}
	}
	sort.Strings(files)
	return files
}

// copyTree copies regular files and directories (the corpus has no links).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}
