package skipfiles

import (
	"context"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/appcfg/appcfg/internal/strgen"
	"github.com/appcfg/appcfg/internal/testtree"
)

// TestWalkGoModule: a Go app of the standard environment is uploaded as
// gcloud's go-app-stager stages it: its whole module, from the directory
// of go.mod, with the app directory's ignore rules, plus _main-package-path
// naming the app directory relative to the module ("." at the root).
func TestWalkGoModule(t *testing.T) {
	mod := t.TempDir()
	for _, p := range []string{"go.mod", "lib/lib.go", "NOTES.txt", "web/app.yaml", "web/main.go", "web/static/a.css", "web/x.exe", ".git/HEAD"} {
		testtree.WriteFile(t, mod, p, "x")
	}
	// The app directory's .gcloudignore decides, for paths from the module root.
	testtree.WriteFile(t, mod, "web/.gcloudignore", "NOTES.txt\n")
	web := filepath.Join(mod, "web")
	res, err := Walk(context.Background(), web, Options{Runtime: "go122"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Root != mod {
		t.Errorf("root %s, want the module root %s", res.Root, mod)
	}
	want := []string{"_main-package-path", "go.mod", "lib/lib.go", "web/.gcloudignore", "web/app.yaml", "web/main.go", "web/static/a.css", "web/x.exe"}
	if got := rels(res); !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	if f := res.Files[0]; string(f.Data()) != "web" || f.Size() != 3 {
		t.Errorf("%s = %q (size %d), want \"web\"", f.Path, f.Data(), f.Size())
	}

	// At the module root: "." and gcloud's default Go ignore rules.
	testtree.WriteFile(t, mod, "a.exe", "x")
	res, err = Walk(context.Background(), mod, Options{Runtime: "go123"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Files {
		if f.Path == MainPackageFile {
			found = string(f.Data()) == "."
		}
		if f.Path == "a.exe" || f.Path == ".git/HEAD" {
			t.Errorf("%s uploaded; gcloud's default Go rules skip it", f.Path)
		}
	}
	if !found {
		t.Errorf("files %v: want %s = \".\"", rels(res), MainPackageFile)
	}

	// No go.mod (GOPATH mode), or not a staged runtime: the app directory as it is.
	plain := t.TempDir()
	testtree.WriteFile(t, plain, "app.yaml", "x")
	testtree.WriteFile(t, plain, "main.go", "x")
	for _, rt := range []string{"go122", "python312"} {
		res, err = Walk(context.Background(), plain, Options{Runtime: rt}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := rels(res); !reflect.DeepEqual(got, []string{"app.yaml", "main.go"}) || res.Root != plain {
			t.Errorf("%s without go.mod: root %s, files %v", rt, res.Root, got)
		}
	}
	res, err = Walk(context.Background(), web, Options{Runtime: "python312"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Root != web {
		t.Errorf("python312 in a Go module: root %s, want the app directory", res.Root)
	}
}

// TestGoStagedIsGcloudsExpression: goStaged, read by hand, answers as
// gcloud's GO_TI_RUNTIME_EXPR matched from start to end, on the Go runtime
// names and on "go", "go1", "go1." and "go111" followed by up to three
// characters of digits, letters, "_", ".", "-" and a newline.
func TestGoStagedIsGcloudsExpression(t *testing.T) {
	re := regexp.MustCompile(`^(?:go|go1\..+|go1\d\d(?:\w+\d)?)$`)
	inputs := []string{"", "go", "go1", "go111", "go122", "go1.9", "go1.22", "go1.", "go2", "Go111", "go111\n",
		"go1.\n", "go1.x\ny", "go111beta1", "go111beta", "go111_1", "go111é1", "python27", "gos",
		"go1.\xff", "go111\xff1", "go1\xff1"}
	const tail = "0a9Z_.-\n"
	inputs = append(inputs, strgen.Extend([]string{"", "g", "go", "go1", "go1.", "go11", "go111", "go111a"}, tail)...)
	for _, rt := range inputs {
		if got, want := goStaged(rt), re.MatchString(rt); got != want {
			t.Errorf("goStaged(%q) = %v, gcloud's expression says %v", rt, got, want)
		}
	}
}
