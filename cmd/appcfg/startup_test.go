package main

import (
	"context"
	"os"
	"os/exec"
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
