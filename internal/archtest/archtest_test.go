package archtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// The layers of the module, by import path relative to the module.
var (
	// features each do one job for the commands and are wired together
	// only by cmd/appcfg.
	features = []string{"upload", "skipfiles", "validate", "logs", "indexes", "bulkload", "serve", "companion"}
	// models are the typed configuration features share.
	models = []string{"appconfig"}
	// presentation is what turns results into text for people: backends
	// return data and leave it to the commands.
	presentation = []string{"cmd", "bench", "logs", "internal/human", "internal/progress"}
	// tops wire everything together: the commands and the bench tools.
	tops = []string{"cmd", "bench"}
)

// appModel is the typed app.yaml, the one internal/ leaf the backend
// contract names: a deploy carries the parsed model to the host.
const appModel = "internal/appmodel"

// allowed lists today's violations, each with why it is still there and
// what removes it. The test prints them on every run and fails when one is
// gone, so the list only shrinks.
var allowed = map[string]string{}

// pkg is the part of `go list -json` output the rules read.
type pkg struct {
	ImportPath string
	Imports    []string
	Module     *struct{ Main bool }
	Error      *struct{ Err string }
}

// TestImportRules checks every import of every package of the module
// (tests aside) against the layering.
func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	mod, pkgs := listModule(ctx, t)
	var found []string
	for _, p := range pkgs {
		from := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		for _, imp := range p.Imports {
			if imp != mod && !strings.HasPrefix(imp, mod+"/") {
				continue // the standard library and other modules
			}
			to := strings.TrimPrefix(strings.TrimPrefix(imp, mod), "/")
			if why := broken(from, to); why != "" {
				found = append(found, fmt.Sprintf("%s -> %s: %s", from, to, why))
			}
		}
		if layer(from) == "" {
			t.Errorf("package %s is in no layer: add it to one in this test (and to the README's layout table)", from)
		}
	}
	sort.Strings(found)
	seen := map[string]bool{}
	for _, v := range found {
		edge := v[:strings.Index(v, ":")]
		if reason, ok := allowed[edge]; ok {
			seen[edge] = true
			t.Logf("allowed for now: %s (%s)", v, reason)
			continue
		}
		t.Errorf("import rule broken: %s", v)
	}
	for edge := range allowed {
		if !seen[edge] {
			t.Errorf("%s no longer breaks a rule: remove it from the allowed list", edge)
		}
	}
}

// broken returns the rule the import of package to by package from breaks,
// or "".
func broken(from, to string) string {
	switch lf, lt := layer(from), layer(to); {
	case lf == "top" || from == to:
		return ""
	case lt == "top":
		return "only the commands' own packages import a command"
	case lf == "internal" && lt != "internal":
		return "internal/ packages are leaves: they import only other internal/ packages"
	case lf == "backend" && from == "backend" && to != appModel:
		return "the backend contract imports only the standard library and " + appModel
	case lf == "backend" && in(to, presentation):
		return "a backend returns data; presenting it is the commands' and features' job"
	case lf == "backend" && (lt == "feature" || lt == "model"):
		return "backends implement the contract for the features, never use them"
	case lf == "feature" && lt == "feature" && root(from, features) != root(to, features):
		return "feature packages do not import each other: cmd/appcfg wires them, or what both need moves to a leaf package"
	case lf == "feature" && lt == "backend" && to != "backend":
		return "feature packages reach hosts through the backend contract, never a backend implementation"
	case lf == "model" && lt != "internal" && lt != "model":
		return "the configuration model imports only internal/ leaves"
	}
	return ""
}

// layer names the layer of a package path: top, feature, model, backend,
// internal, or "" for none.
func layer(p string) string {
	switch {
	case in(p, tops):
		return "top"
	case in(p, features):
		return "feature"
	case in(p, models):
		return "model"
	case p == "backend" || strings.HasPrefix(p, "backend/"):
		return "backend"
	case strings.HasPrefix(p, "internal/"):
		return "internal"
	}
	return ""
}

// root is the one of roots p is or is below ("" for none): a feature's
// sub-packages (serve/instance) are parts of that feature, which it may
// import.
func root(p string, roots []string) string {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return r
		}
	}
	return ""
}

// in reports whether p is one of roots or below one.
func in(p string, roots []string) bool {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// mainModule is the main module's path and the directory of its go.mod.
func mainModule(ctx context.Context, t *testing.T) (path, dir string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	path, dir, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok {
		t.Fatalf("go list -m printed %q", out)
	}
	return path, dir
}

// listModule returns the module path and the module's packages, from
// `go list -deps -json ./...` run at the module root.
func listModule(ctx context.Context, t *testing.T) (string, []pkg) {
	t.Helper()
	mod, dir := mainModule(ctx, t)
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-deps", "-json", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -json ./...: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("reading go list's output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: package %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.Module != nil && p.Module.Main {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of module %s: not the whole module", len(pkgs), mod)
	}
	return mod, pkgs
}
