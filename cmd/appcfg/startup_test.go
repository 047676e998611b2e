package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// TestFlagNamesMatchCLI: flagNames, which the option tables and the legacy
// notes use instead of urfave/cli's Names (a regular expression per name
// per call), and the names each of the app's flags keeps (keepNames)
// answer as urfave/cli's Names does for every flag of every command.
func TestFlagNamesMatchCLI(t *testing.T) {
	app := newApp(stdio{})
	var all []cli.Flag
	all = append(all, app.Flags...)
	for _, c := range app.Commands {
		all = append(all, c.Flags...)
	}
	all = append(all, legacyFlags(legacyUpdateOptions())...)
	// The fallback for a spelling Names rewrites.
	odd := []cli.Flag{&cli.StringFlag{Name: "two, words", Aliases: []string{"x y"}}, &cli.GenericFlag{Name: "g", Aliases: []string{"h"}}}
	all = append(all, odd...)
	kept := slices.Clone(odd)
	keepNames(kept)
	all = append(all, kept...)
	if len(all) < 100 {
		t.Fatalf("only %d flags found: the app's flags were not gathered", len(all))
	}
	for _, f := range all {
		want := baseFlag(f).Names() // urfave/cli's own answer
		if got := flagNames(f); !slices.Equal(got, want) {
			t.Errorf("flagNames(%T %v) = %q, Names() = %q", f, want, got, want)
		}
		if got := f.Names(); !slices.Equal(got, want) {
			t.Errorf("%T %v keeps the names %q", f, want, got)
		}
	}
}

// TestEveryFlagKeepsItsNames: every flag of the app and of its commands
// answers Names without urfave/cli's regular expression (a flag type
// keepNames does not know would cost every run a regular expression per
// name of each flag before it, for every flag: 7 M instructions when no
// flag kept its names).
func TestEveryFlagKeepsItsNames(t *testing.T) {
	app := newApp(stdio{})
	check := func(where string, flags []cli.Flag) {
		for _, f := range flags {
			if baseFlag(f) == f {
				t.Errorf("%s: %T %v does not keep its names: add its type to keepNames and baseFlag", where, f, f.Names())
			}
		}
	}
	check("global", app.Flags)
	for _, c := range app.Commands {
		check(c.Name, c.Flags)
	}
}

// TestKeptFlagsPrintAsUrfave: a flag that keeps its names prints in the
// help what urfave/cli prints for the flag itself, before and after the
// help's tidying (String runs urfave/cli's FlagStringer on the wrapper, so
// the kept names; a boolean's "(default: false)" stays hidden).
func TestKeptFlagsPrintAsUrfave(t *testing.T) {
	app := newApp(stdio{})
	all := slices.Clone(app.Flags)
	for _, c := range app.Commands {
		all = append(all, c.Flags...)
	}
	compare := func(when string) {
		for _, f := range all {
			if got, want := f.String(), baseFlag(f).String(); got != want {
				t.Errorf("%s: %T %v prints %q, urfave/cli %q", when, f, f.Names(), got, want)
			}
		}
	}
	compare("untidied")
	prepareHelp(app)
	compare("tidied")
	for _, f := range all {
		if b, ok := baseFlag(f).(*cli.BoolFlag); ok && strings.Contains(f.String(), "(default") {
			t.Errorf("boolean --%s prints a default: %q", b.Name, f.String())
		}
	}
}

// TestHelpMayPrint: the help texts are readied for every run that can
// print one, and only then.
func TestHelpMayPrint(t *testing.T) {
	app := newApp(stdio{})
	for _, tt := range []struct {
		args string
		want bool
	}{
		{"", true},
		{"-q", true},
		{"help update", true},
		{"h update", true},
		{"update -h .", true},
		{"--help update", true},
		{"set_traffic -A app", true}, // --splits is required: a run without it prints set_traffic's help
		{"nosuch", true},
		{"update .", false},
		{"-q update --dry-run .", false},
		{"version", false},
		{"request_logs -A app -V v1 out.log", false},
	} {
		args := append([]string{"appcfg"}, strings.Fields(tt.args)...)
		norm, cmd, err := normalizeArgs(app, args)
		if err != nil {
			norm = args // an option urfave/cli adds (-h) is no option of appcfg's tables
		}
		if got := helpMayPrint(cmd, norm); got != tt.want {
			t.Errorf("helpMayPrint(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

// TestCommandRunReadiesNoHelp: a command's run leaves the help texts alone
// (rendering the global options into each command's help and tidying every
// flag's usage cost every run 0.7 M instructions and 130 KB of fresh heap)
// and drops the flags' categories (0.3 M instructions of urfave/cli's
// set-up),
// while help, a missing required option and the fish completion still
// print them tidied, with the global options.
func TestCommandRunReadiesNoHelp(t *testing.T) {
	var out, errOut strings.Builder
	io := stdio{in: strings.NewReader(""), out: &out, err: &errOut}
	app := newApp(io)
	if code := runApp(context.Background(), app, []string{"appcfg", "version"}, io); code != exitOK {
		t.Fatalf("version: exit %d: %s", code, errOut.String())
	}
	for _, c := range app.Commands {
		if c.Name != "exit-codes" && c.CustomHelpTemplate != "" {
			t.Errorf("appcfg version rendered the help of %s", c.Name)
		}
	}
	for _, f := range app.Flags {
		if c, ok := f.(cli.CategorizableFlag); ok && c.GetCategory() != "" {
			t.Errorf("appcfg version kept the help's category %q of --%s", c.GetCategory(), f.Names()[0])
		}
	}
	// request_logs --num_days writes its default in its usage text, which
	// the help's tidying moves into the default's place.
	if c := findCommand(app, "request_logs"); c == nil || !strings.Contains(fmt.Sprint(c.Flags), "(default 1, or 0 with --append)") {
		t.Errorf("appcfg version tidied request_logs' usage texts")
	}

	// Each in a process of its own, as a user runs them: urfave/cli's help
	// command is one value shared by every app of a process, and printing a
	// command's help gives it a subcommand that the fish completion of a
	// later app recurses into without end.
	exe := appcfgExe(t)
	stdout, err := exec.Command(exe, "set_traffic", "-A", "app").Output()
	if err == nil || !strings.Contains(string(stdout), "GLOBAL OPTIONS") || !strings.Contains(string(stdout), `--split_by value  how requests are assigned: ip, cookie or random (default: "ip")`) {
		t.Errorf("set_traffic without --splits: %v, help:\n%s", err, stdout)
	}
	stdout, err = exec.Command(exe, "completion", "fish").Output()
	if err != nil || !strings.Contains(string(stdout), "-l num_days -s n -r -d 'days of logs to get, ending at --end_date; 0 for all'\n") {
		t.Errorf("completion fish: %v, descriptions not tidied:\n%s", err, stdout)
	}
}

// Budgets of what one command's run allocates in appcfg's own code and
// urfave/cli's set-up (newApp, the option tables, urfave/cli's flag sets),
// which every command pays before its work: each fresh 4 KiB of heap is a
// page fault, about 11 µs on the reference VM. `appcfg version` took
// 102 KB in 1,556 allocations when these were set (docs/performance.md,
// start-up).
const (
	runAllocBytes = 128 << 10
	runAllocs     = 1900
)

// TestCommandRunAllocatesLittle runs `appcfg version` in process, as main
// does (newApp, then the run), and holds its heap to the budgets above.
func TestCommandRunAllocatesLittle(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates beside the code measured")
	}
	std := stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard}
	args := []string{"appcfg", "version"}
	if code := run(context.Background(), args, std); code != exitOK {
		t.Fatalf("appcfg version: exit %d", code)
	}
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		run(context.Background(), args, std)
	}
	runtime.ReadMemStats(&after)
	bytes := (after.TotalAlloc - before.TotalAlloc) / runs
	allocs := (after.Mallocs - before.Mallocs) / runs
	if bytes > runAllocBytes || allocs > runAllocs {
		t.Errorf("appcfg version allocates %d bytes in %d allocations a run (budget %d bytes, %d allocations): build what only some commands or only the help need when it is needed", bytes, allocs, runAllocBytes, runAllocs)
	}
	t.Logf("appcfg version allocates %d bytes in %d allocations a run", bytes, allocs)
}

// notLinked are packages the appcfg binary must not contain: every package
// linked in costs each run its initialisation and its share of the
// binary's page faults (docs/performance.md, start-up), and test helpers
// have no business in a release. A prefix ending in "/" stands for the
// packages under it.
var notLinked = []string{
	"testing", "net/http/httptest",
	"google.golang.org/grpc",       // no gRPC client: the App Engine backend speaks JSON over HTTP
	"google.golang.org/api/",       //
	"google.golang.org/protobuf/",  //
	"cloud.google.com/go/storage",  //
	"go.opentelemetry.io/",         //
	"github.com/stretchr/testify/", // test-only modules of go.mod
	"github.com/google/go-cmp/",
	"github.com/rogpeppe/go-internal/",
	"github.com/minio/",
	"github.com/google/pprof/",
	"github.com/kr/pretty",
	"gopkg.in/check.v1",
	"github.com/chengxilo/virtualterm",
	"github.com/appcfg/appcfg/internal/dsemulator", // test helpers of this module
	"github.com/appcfg/appcfg/internal/corpus",
	"github.com/appcfg/appcfg/bench/",
}

// TestBinaryLinksNoTestOrUnneededPackages reads `go list -deps` of the
// binary (build dependencies only, never test ones) against notLinked.
func TestBinaryLinksNoTestOrUnneededPackages(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/urfave/cli/v2") {
		t.Fatalf("go list -deps printed no urfave/cli: %q", out)
	}
	for _, d := range deps {
		for _, bad := range notLinked {
			if d == bad || (strings.HasSuffix(bad, "/") && strings.HasPrefix(d, bad)) || strings.HasPrefix(d, bad+"/") {
				t.Errorf("appcfg links %s (matches %q in notLinked)", d, bad)
			}
		}
	}
}

// ownInitBudget bounds what the module's own packages may allocate during
// package initialisation, which every command pays before it runs: tables,
// maps and patterns belong behind sync.OnceValue or internal/lazyre, built
// by the command that uses them (docs/performance.md, start-up). Before
// this was checked they allocated 96 KB in 1,000 allocations at each start;
// a fresh page of heap costs a page fault, about 11 µs on the reference VM.
const (
	ownInitBytesTotal  = 32 << 10
	ownInitBytesPerPkg = 12 << 10
)

// TestOwnPackagesInitAllocateLittle runs appcfg --version with
// GODEBUG=inittrace=1 and sums the bytes each of the module's packages
// allocates in its init (the test binary, run as appcfg, initialises the
// same packages as the real one, plus test helpers, which are left out,
// and its package main holds the tests, so main is not counted).
func TestOwnPackagesInitAllocateLittle(t *testing.T) {
	cmd := exec.Command(appcfgExe(t), "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("appcfg --version: %v\n%s", err, stderr.String())
	}
	const module = "github.com/appcfg/appcfg/"
	seen, total := 0, 0
	for line := range strings.Lines(stderr.String()) {
		// init PKG @0.5 ms, 0.01 ms clock, 1024 bytes, 3 allocs
		f := strings.Fields(line)
		if len(f) != 11 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		seen++
		pkg := f[1]
		if !strings.HasPrefix(pkg, module) || pkg == module+"cmd/appcfg" || slices.ContainsFunc(notLinked, func(bad string) bool {
			return pkg == bad || strings.HasPrefix(pkg, strings.TrimSuffix(bad, "/")+"/")
		}) {
			continue
		}
		n, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", line, err)
		}
		total += n
		if n > ownInitBytesPerPkg {
			t.Errorf("%s allocates %d bytes in its init (budget %d): build its tables on first use", pkg, n, ownInitBytesPerPkg)
		}
	}
	if seen < 50 {
		t.Fatalf("only %d inittrace lines in appcfg's stderr:\n%s", seen, stderr.String())
	}
	if total > ownInitBytesTotal {
		t.Errorf("the module's packages allocate %d bytes in their inits (budget %d): build tables on first use", total, ownInitBytesTotal)
	}
	t.Logf("the module's packages allocate %d bytes in their inits", total)
}
