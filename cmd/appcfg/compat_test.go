package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// compatDir is the shared compatibility corpus: invocations.tsv (real
// appcfg.py command lines) and the fixture app they refer to.
func compatDir() string {
	if d := os.Getenv("APPCFG_COMPAT"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../../shared/compat")
	return d
}

// compatOutcome is how one corpus line ended.
type compatOutcome string

const (
	compatRuns    compatOutcome = "runs"
	compatRefused compatOutcome = "refused on purpose"    // exit 6, one message with what to use instead
	compatInput   compatOutcome = "refused by host/input" // exit 1, one message naming what is missing or wrong
	compatFailed  compatOutcome = "FAILED"
)

// classify judges one run as docs/compat.md says: exit 0 runs; exit 6 with
// one refusal message is refused on purpose; exit 1 with one error message
// (what the host lacks, what the input gets wrong) is a refusal too. Exit 2
// (a command line appcfg.py accepted but we do not), a usage dump, a panic,
// or several errors are failures.
func classify(code int, stderr string) (compatOutcome, string) {
	var errs []string
	for _, l := range strings.Split(stderr, "\n") {
		switch {
		case strings.Contains(l, "panic:") || strings.Contains(l, "goroutine "):
			return compatFailed, "panic: " + l
		case strings.Contains(l, "flag provided but not defined") || strings.Contains(l, "unknown command") || strings.Contains(l, "Run 'appcfg help'"):
			return compatFailed, l
		case strings.HasPrefix(l, "appcfg: the configuration has errors"):
			// the summary after a list of problems, not another error
		case strings.HasPrefix(l, "appcfg: ") || strings.Contains(l, ": error: ") || (strings.Contains(l, ".yaml:") && !strings.Contains(l, ": warning: ")):
			errs = append(errs, l)
		}
	}
	switch {
	case code == exitOK:
		return compatRuns, ""
	case code == exitRefused && len(errs) == 1 && strings.Contains(errs[0], "is not supported: "):
		return compatRefused, errs[0]
	case code == exitFailure && len(errs) == 1:
		return compatInput, errs[0]
	}
	return compatFailed, fmt.Sprintf("exit %d, %d error lines: %s", code, len(errs), strings.Join(errs, " | "))
}

// TestCompatCorpus runs every normalized line of the compatibility corpus
// against a fresh local store, in a copy of the fixture app where version v1
// of the default service is already deployed (as a script's earlier steps
// would have done), with no standard input and a 30 s limit, and fails on
// any line that neither runs nor is refused on purpose. The fixture is
// deployed once; each line gets its own copy of the app and of the
// deployed store, so no line sees what another did.
func TestCompatCorpus(t *testing.T) {
	dir := compatDir()
	f, err := os.Open(filepath.Join(dir, "invocations.tsv"))
	if err != nil {
		t.Skipf("compatibility corpus not found (%v); set APPCFG_COMPAT to its directory", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	deployed := deployCompatFixture(t, filepath.Join(dir, "app"))
	counts := map[compatOutcome]int{}
	total := 0
	for _, row := range rows[1:] {
		if len(row) < 6 {
			continue
		}
		id, line := row[0], row[5]
		args := shellWords(line)
		if len(args) == 0 || args[0] != "appcfg" {
			t.Errorf("%s: not an appcfg command line: %q", id, line)
			continue
		}
		total++
		t.Run(id, func(t *testing.T) {
			code, stderr := runCompatLine(t, deployed, args)
			outcome, why := classify(code, stderr)
			counts[outcome]++
			switch outcome {
			case compatFailed:
				t.Errorf("%s: %s\nstderr:\n%s", line, why, stderr)
			case compatRuns:
			default:
				t.Logf("%s: %s: %s", outcome, line, why)
			}
		})
	}
	lines := total
	total = 0
	for _, n := range counts {
		total += n // the lines that ran (-run may select some)
	}
	run := counts[compatRuns]
	t.Logf("compat: %d/%d run, %d refused (%d on purpose, %d by the host or the input), %d failed",
		run, total, counts[compatRefused]+counts[compatInput], counts[compatRefused], counts[compatInput], counts[compatFailed])
	if total == lines && run*10 < total*9 {
		t.Errorf("only %d of %d lines run; the goal is at least 90%%", run, total)
	}
}

// compatDirs are the directories a corpus line's work directory holds:
// the app and the ones the XDG and HOME variables name.
var compatDirs = map[string]string{"XDG_DATA_HOME": "data", "XDG_CACHE_HOME": "cache", "XDG_CONFIG_HOME": "config", "HOME": "home"}

// deployCompatFixture copies the fixture app into a work directory and
// deploys version v1 of its default service there to a local store, as
// every corpus line expects, and returns that directory. Deploying once
// and copying the result costs a copy of a few files per line instead of a
// deploy (with its syncs) per line.
func deployCompatFixture(t *testing.T, fixture string) string {
	work := t.TempDir()
	if err := os.CopyFS(filepath.Join(work, "app"), os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	if code, stderr := runCompatIn(t, work, []string{"appcfg", "-q", "update", "."}); code != 0 {
		t.Fatalf("deploying the fixture: exit %d\n%s", code, stderr)
	}
	return work
}

// runCompatLine runs one line in a fresh copy of deployed (the fixture app
// and its store, from deployCompatFixture).
func runCompatLine(t *testing.T, deployed string, args []string) (int, string) {
	work := t.TempDir()
	if err := copyTreeModes(deployed, work); err != nil {
		t.Fatalf("copying the deployed fixture: %v", err)
	}
	return runCompatIn(t, work, args)
}

// runCompatIn runs one command line in work/app, with the XDG and HOME
// directories under work and no APPCFG_ variable naming a target.
func runCompatIn(t *testing.T, work string, args []string) (int, string) {
	t.Chdir(filepath.Join(work, "app"))
	for k, v := range compatDirs {
		t.Setenv(k, filepath.Join(work, v))
	}
	for _, k := range []string{"APPCFG_BACKEND", "APPCFG_APPLICATION", "APPCFG_MODULE", "APPCFG_VERSION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	code := run(ctx, args, stdio{in: strings.NewReader(""), out: io.Discard, err: &stderr})
	return code, stderr.String()
}

// copyTreeModes copies the tree src into dst (which may exist), keeping
// each file's and directory's permission bits: the store's files are
// private, and a copy must not loosen them. Directories get theirs last,
// so a read-only one is still filled.
func copyTreeModes(src, dst string) error {
	dirModes := map[string]os.FileMode{}
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			dirModes[target] = info.Mode().Perm()
			return os.MkdirAll(target, 0o700)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file or directory", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o600); err != nil {
			return err
		}
		return os.Chmod(target, info.Mode().Perm()) // WriteFile's mode passes through the umask
	})
	for dir, mode := range dirModes {
		if err == nil {
			err = os.Chmod(dir, mode)
		}
	}
	return err
}

// shellWords splits a command line as a POSIX shell would for the simple
// quoting the corpus uses: blanks separate words, quotes group them.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}
