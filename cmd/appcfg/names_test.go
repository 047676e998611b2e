package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/testtree"
)

// TestFileNamesWithControlCharactersAreQuoted: names chosen by whoever
// wrote the app reach the terminal only quoted when they hold control
// characters, in every human output of ls_files and update: an escape
// sequence in a name must not retitle the window or clear the screen, and
// a newline must not forge a line of output.
func TestFileNamesWithControlCharactersAreQuoted(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	app := t.TempDir()
	files := map[string]string{
		"app.yaml":                 "runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /.*\n  script: main.app\n",
		"main.py":                  "app = None\n",
		"evil\x1b]0;pwned\x07.txt": "uploaded",  // a legal name: uploaded
		"two\nlines.txt":           "skipped",   // the server refuses it: skipped with a warning
		"clear\x1b[2J.py":          "x = 1\n",   // with its .pyc: the .pyc is dropped with a warning
		"clear\x1b[2J.pyc":         "",          //
		"ext\x1b[5m.so":            "",          // a C extension: a warning
		"d\x1b[31m/only.pyc":       "",          // a directory whose only file is skipped
		"d\x1b[31m/ok.txt\x1b[0m":  "also kept", //
	}
	testtree.Write(t, app, files)
	if err := os.Symlink("nowhere\x1b[0m", filepath.Join(app, "dead\x1b[31m")); err != nil {
		t.Fatal(err)
	}
	backend := "local:" + t.TempDir()
	runs := [][]string{
		{"ls_files", app},
		{"ls_files", "--skipped", app},
		{"ls_files", "--explain", "d\x1b[31m", app},
		{"ls_files", "--explain", "d\x1b[31m/only.pyc", app},
		{"ls_files", "-v", app},
		{"--backend", backend, "update", "-A", "demo", "-V", "1", "--dry-run", app},
		{"--backend", backend, "update", "-A", "demo", "-V", "1", app},
	}
	for _, args := range runs {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Errorf("%q: exit %d\n%s", args, code, stderr)
		}
		for stream, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
			if i := strings.IndexFunc(out, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }); i >= 0 {
				t.Errorf("%q: %s has a raw control character at %d:\n%q", args, stream, i, out)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "lines.txt") {
					t.Errorf("%q: %s has a line forged by a file name: %q", args, stream, line)
				}
			}
		}
	}
	_, stdout, _ := runCLI(t, "ls_files", app)
	if !strings.Contains(stdout, `"evil\x1b]0;pwned\a.txt"`+"\n") {
		t.Errorf("ls_files printed\n%q\nwant the name quoted, Go-style", stdout)
	}
}
