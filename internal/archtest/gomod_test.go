package archtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestGoModTidy fails when go.mod or go.sum is not what `go mod tidy`
// makes of them: a module the code imports directly marked "// indirect",
// one no longer used, a missing checksum. It reads only the module cache
// (GOPROXY=off), so it runs offline; when the cache lacks a module tidy
// needs, it skips and says how to fill the cache.
func TestGoModTidy(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "tidy", "-diff")
	_, cmd.Dir = mainModule(ctx, t)
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	switch {
	case err == nil:
	case stdout.Len() > 0:
		t.Errorf("go.mod or go.sum is not tidy: run `go mod tidy` and commit the result\n%s", stdout.Bytes())
	case strings.Contains(stderr.String(), "GOPROXY=off"):
		t.Skipf("the module cache lacks a module `go mod tidy` needs and the check runs offline; run `go mod download all` to check it (%s)", lineWith(stderr.String(), "GOPROXY=off"))
	default:
		t.Fatalf("go mod tidy -diff: %v\n%s", err, stderr.Bytes())
	}
}

// lineWith is the first line of s that holds sub, trimmed.
func lineWith(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
