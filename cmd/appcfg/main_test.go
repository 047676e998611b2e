package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/internal/crash"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/urfave/cli/v2"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testscript files whose cmp fails")

func TestMain(m *testing.M) {
	testscript.Main(sourceTreeGuard{m}, map[string]func(){
		"appcfg": func() {
			// APPCFG_TEST_PANIC names a crash.Point to panic at: the
			// scripts check that a panic in any goroutine is one line.
			if p := os.Getenv("APPCFG_TEST_PANIC"); p != "" {
				crash.InjectForTest(p)
			}
			os.Exit(run(context.Background(), os.Args, newStdio()))
		},
	})
}

// sourceTreeGuard fails the test run when a test left a new file in the
// package's source directory: the in-process tests run with it as working
// directory, so a command's default output name (bulkloader-results-….sql3
// of download_data) lands there and then gets committed. It names the files
// and leaves them: a file that appeared meanwhile may be the developer's own
// (a checkout, a rebase or an editor during the run), and a test must never
// delete what it did not make.
type sourceTreeGuard struct{ m *testing.M }

func (g sourceTreeGuard) Run() int {
	before, err := treeFiles(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listing the package directory:", err)
		return 1
	}
	code := g.m.Run()
	after, err := treeFiles(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listing the package directory:", err)
		return 1
	}
	var added []string
	for p := range after {
		if !before[p] {
			added = append(added, p)
		}
	}
	if len(added) > 0 {
		sort.Strings(added)
		fmt.Fprintf(os.Stderr, "FAIL: new files in the package directory during the test run (a test must run commands in t.TempDir() or name its outputs there; if these are your own files, made during the run, run the tests again):\n\t%s\n", strings.Join(added, "\n\t"))
		return 1
	}
	return code
}

// treeFiles lists every path under dir.
func treeFiles(dir string) (map[string]bool, error) {
	files := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		files[p] = true
		return nil
	})
	return files, err
}

// TestScripts runs every testdata/script/*.txtar against the real binary.
// Each script gets its own HOME and XDG dirs under $WORK, so a script never
// sees the user's data or another script's. $EXAMPLES is the repository's
// examples folder and $CORPUS the shared corpus ("" when absent).
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	goCache := os.Getenv("GOCACHE")
	if goCache == "" {
		if d, err := os.UserCacheDir(); err == nil {
			goCache = filepath.Join(d, "go-build")
		}
	}
	corpusDir, _ := filepath.Abs("../../../shared/corpus")
	if _, err := os.Stat(corpusDir); err != nil {
		corpusDir = ""
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			work := env.WorkDir
			env.Setenv("HOME", filepath.Join(work, ".home"))
			env.Setenv("XDG_DATA_HOME", filepath.Join(work, ".data"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(work, ".config"))
			env.Setenv("XDG_CACHE_HOME", filepath.Join(work, ".cache"))
			env.Setenv("EXAMPLES", examples)
			env.Setenv("CORPUS", corpusDir)
			// The user's Go build cache, so the Go app a serve script
			// deploys builds in seconds, not minutes.
			env.Setenv("GOCACHE", goCache)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonvalid": cmdJSONValid,
			"cpdir":     cmdCopyDir,
			"ptyexec":   cmdPtyExec, "ttyexec": cmdTTYExec,
			"httpget": cmdHTTPGet, "matchlines": cmdMatchLines,
			"exitcode": cmdExitCode, "jsonschema": cmdJSONSchema,
			"holdlock": cmdHoldLock, "fakegoogle": cmdFakeGoogle, "sleep": cmdSleep,
			"httpbody":   cmdHTTPBody,
			"watchopens": cmdWatchOpens,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "corpus":
				return corpusDir != "", nil
			}
			return false, nil
		},
	})
}

// cmdExitCode is the script command `exitcode N PROG ARGS...`: it runs
// PROG as exec does and checks that it exits with status N (exec only
// tells zero from non-zero).
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdSleep is the script command `sleep DURATION` (at most 10s), for
// scripts that let a background command see time pass.
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d < 0 || d > 10*time.Second {
		ts.Fatalf("sleep: want a duration up to 10s, not %q", args[0])
	}
	time.Sleep(d)
}

// cmdJSONValid is the script command `jsonvalid FILE`: FILE (or stdout,
// stderr) must parse as JSON.
func cmdJSONValid(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: jsonvalid FILE")
	}
	var v any
	err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &v)
	switch {
	case err != nil && !neg:
		ts.Fatalf("%s is not valid JSON: %v", args[0], err)
	case err == nil && neg:
		ts.Fatalf("%s is valid JSON", args[0])
	}
}

// runCLI runs the command line in-process and returns its exit status and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"appcfg"}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errOut})
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"no command", nil, exitOK, ""},
		{"options alone", []string{"--skip_sdk_update_check", "--oauth2"}, exitOK, "--oauth2 flag is now the default"},
		{"mistyped command", []string{"updaet", "."}, exitUsage, "did you mean update?"},
		{"mistyped flag", []string{"update", "--dyr-run", "."}, exitUsage, "did you mean --dry-run?"},
		{"passin refused", []string{"--email=a@example.com", "--passin", "update", "."}, exitRefused, "removed password sign-in"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"validate", "--nope"}, exitUsage, "flag provided but not defined"},
		{"bad format", []string{"validate", "--format", "xml", "."}, exitUsage, "--format must be text, json or ndjson"},
		{"json with ndjson", []string{"validate", "--json", "--format", "ndjson", "."}, exitUsage, "cannot go with --format ndjson"},
		{"bad -E", []string{"-E", "novalue", "validate", "."}, exitUsage, "must match NAME:VALUE"},
		{"missing dir", []string{"validate", "does-not-exist"}, exitFailure, "does-not-exist"},
		{"tool version", []string{"--version"}, exitOK, ""},
		{"help", []string{"help"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
			if !strings.Contains(stderr, tt.msg) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.msg)
			}
		})
	}
}

func TestNormalizeArgs(t *testing.T) {
	app := newApp(stdio{})
	tests := []struct {
		in, want string
	}{
		{"validate . -A myapp", "--application myapp validate ."},
		{"validate . --appl=myapp", "--application=myapp validate ."},
		// --format is global: validate's own --format json of old still parses
		{"-q validate --format json dir", "--quiet --format json validate dir"},
		{"validate dir --format json -V v1", "--format json --version v1 validate dir"},
		{"validate --form json dir", "--format json validate dir"},
		{"update --json .", "--json update ."},
		{"validate -- -odd-dir", "validate -- -odd-dir"},
		// a command's option before the command, a global one after it
		{"--config_file=b.yaml upload_data --filename x -q", "--quiet upload_data --config_file=b.yaml --filename x"},
		// - and _ alike; a prefix shared by a flag's two spellings is one flag
		{"update --no-precompilation --dry .", "update --no_precompilation --dry-run ."},
		{"upload_data --dry-run --filename=x", "upload_data --dry_run --filename=x"},
		// -e=addr is the value addr; huge integers are clamped
		{"-e=a@b.c cron_info -n 10000000000000000000", "--email=a@b.c cron_info --num_runs 2147483647"},
		{"update . -E A:b:c --module default,worker", "--env_variable A:b:c --module default,worker update ."},
	}
	for _, tt := range tests {
		args, _, err := normalizeArgs(app, append([]string{"appcfg"}, strings.Fields(tt.in)...))
		if err != nil {
			t.Errorf("normalizeArgs(%q): %v", tt.in, err)
			continue
		}
		got := strings.Join(args[1:], " ")
		if got != tt.want {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// cmdCopyDir is the script command `cpdir SRC DST`: a recursive copy, so a
// script can change an example app without touching the repository.
func cmdCopyDir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cpdir SRC DST")
	}
	ts.Check(copyTree(ts.MkAbs(args[0]), ts.MkAbs(args[1])))
}

// copyTree copies the directory tree src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// TestPanicIsOneLine: a panic anywhere in a command is reported as one line
// asking for a report, with exit status 70, and no Go trace.
func TestPanicIsOneLine(t *testing.T) {
	for _, tt := range []struct {
		name string
		boom func()
	}{
		{"index", func() { var s []int; _ = s[len(os.Args)+1] }},
		{"nil map", func() { var m map[string]int; m["x"] = 1 }},
		{"value", func() { panic("multi\nline\nvalue") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			io := stdio{in: strings.NewReader(""), out: &out, err: &errOut}
			app := newApp(io)
			app.Commands = append(app.Commands, &cli.Command{Name: "boom", Action: func(*cli.Context) error {
				tt.boom()
				return nil
			}})
			code := runApp(context.Background(), app, []string{"appcfg", "boom"}, io)
			if code != exitBug {
				t.Errorf("exit %d, want %d", code, exitBug)
			}
			got := errOut.String()
			if strings.Count(got, "\n") != 1 || !strings.Contains(got, "please report") || !strings.Contains(got, "main_test.go") {
				t.Errorf("stderr %q, want one line asking for a report and naming the place", got)
			}
			if strings.Contains(got, "goroutine") || strings.Contains(got, ".go:") && strings.Count(got, ".go:") > 1 {
				t.Errorf("stderr %q looks like a Go trace", got)
			}
		})
	}
}

// help COMMAND lists the global options too (every command takes them),
// and no option's default is printed twice.
func TestCommandHelp(t *testing.T) {
	for _, cmd := range []string{"update", "request_logs", "upload_data"} {
		code, stdout, stderr := runCLI(t, "help", cmd)
		if code != exitOK {
			t.Fatalf("help %s: exit %d: %s", cmd, code, stderr)
		}
		if !strings.Contains(stdout, "GLOBAL OPTIONS") || !strings.Contains(stdout, "--application value, -A value") {
			t.Errorf("help %s does not list the global options:\n%s", cmd, stdout)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.Count(line, "(default") > 1 || strings.Contains(line, "(default: false)") {
				t.Errorf("help %s: default shown twice or for a boolean: %q", cmd, line)
			}
		}
	}
}
