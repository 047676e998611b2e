package skipfiles

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/testtree"
)

// TestEmptySkipFilesSkipsNothing: "skip_files: []" is a list with no
// pattern, so nothing is skipped (it used to panic reading the first rule).
// The SDK would upload nothing (its joined pattern "" matches every path):
// the difference is a warning, and --strict makes it an error.
func TestEmptySkipFilesSkipsNothing(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"main.py", ".hidden", "b/x~", "id_rsa_not", "b/c/d.txt"} {
		testtree.WriteFile(t, dir, p, "x")
	}
	opts := Options{Runtime: "python27", SkipFiles: []string{}, SkipFilesSource: "app.yaml"}
	rec := &recorder{}
	res, err := Walk(context.Background(), dir, opts, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".hidden", "b/c/d.txt", "b/x~", "id_rsa_not", "main.py"}
	if got := rels(res); !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want every file %v", got, want)
	}
	if len(rec.warn) != 1 || !strings.Contains(rec.warn[0], "app.yaml") || !strings.Contains(rec.warn[0], "skip_files") {
		t.Errorf("warnings %q, want one naming app.yaml and skip_files", rec.warn)
	}
	if d := res.Explain("b/x~"); !d.Kept {
		t.Errorf("Explain(b/x~) = %+v, want kept", d)
	}
	if hint := res.Matcher.SkipHint("main.py"); !strings.Contains(hint, "app.yaml") {
		t.Errorf("SkipHint = %q, want it to name app.yaml", hint)
	}

	opts.Strict = true
	_, err = Walk(context.Background(), dir, opts, nil)
	if got := problemKinds(err); !reflect.DeepEqual(got, []ProblemKind{ProblemConfig}) {
		t.Errorf("with Strict: problems %v (%v), want one config problem", got, err)
	}
}
