package main

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// TestFlagNamesMatchCLI: flagNames, which the option tables and the legacy
// notes use instead of urfave/cli's Names (a regular expression per name
// per call), answers as Names does for every flag of every command.
func TestFlagNamesMatchCLI(t *testing.T) {
	app := newApp(stdio{})
	var all []cli.Flag
	all = append(all, app.Flags...)
	for _, c := range app.Commands {
		all = append(all, c.Flags...)
	}
	all = append(all, legacyFlags(legacyUpdateOptions())...)
	// The fallback for a spelling Names rewrites.
	all = append(all, &cli.StringFlag{Name: "two, words", Aliases: []string{"x y"}}, &cli.GenericFlag{Name: "g", Aliases: []string{"h"}})
	if len(all) < 100 {
		t.Fatalf("only %d flags found: the app's flags were not gathered", len(all))
	}
	for _, f := range all {
		if got, want := flagNames(f), f.Names(); !slices.Equal(got, want) {
			t.Errorf("flagNames(%T %v) = %q, Names() = %q", f, want, got, want)
		}
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
