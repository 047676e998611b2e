package indexes

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/internal/corpus"
	"github.com/appcfg/appcfg/validate"
)

// TestCorpusRoundTrip pushes every index.yaml of the shared corpus that the
// SDK accepts to a fresh local store, waits for the indexes to serve, lists
// them back and checks that they are exactly the file's definitions; then a
// second push must create nothing and a vacuum must find nothing.
func TestCorpusRoundTrip(t *testing.T) {
	entries := corpus.Entries(t)
	var files, withIndexes, indexCount, skipped int
	for _, e := range entries {
		if e.Kind != "index" || e.Verdict != "ok" {
			continue
		}
		files++
		t.Run(e.ID, func(t *testing.T) {
			n, s := roundTrip(t, e.Path)
			indexCount += n
			skipped += s
			if n > 0 {
				withIndexes++
			}
		})
	}
	if files == 0 {
		t.Fatal("the corpus has no index.yaml with verdict ok")
	}
	t.Logf("corpus index round trip: %d files (%d with indexes), %d indexes pushed and listed back equal, %d skipped as unsupported",
		files, withIndexes, indexCount, skipped)
}

// roundTrip checks one file and returns how many distinct indexes it
// pushed and how many entries it skipped.
func roundTrip(t *testing.T, path string) (int, int) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	r := validate.File(t.Context(), path, validate.KindIndex, validate.Options{})
	if !r.OK() {
		t.Fatalf("the SDK accepts %s but validate finds %v", path, r.Problems)
	}
	defs, _ := r.Config.(*appconfig.IndexDefinitions)
	b, err := local.Open(t.Context(), "", local.Config{Root: t.TempDir()}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const app = "corpus-app"
	res, err := Update(t.Context(), b, app, defs, Options{Wait: true, Poll: time.Millisecond, Timeout: time.Minute}, nil)
	if err != nil {
		t.Fatalf("update_indexes: %v", err)
	}
	want := map[appconfig.IndexKey]bool{}
	if defs != nil {
		for _, ix := range defs.Indexes {
			if _, err := ToDef(ix); err == nil {
				want[ix.Key()] = true
			}
		}
	}
	if res.Added() != len(want) || res.Count(backend.IndexServing) != len(want) {
		t.Fatalf("update added %d and %d serve; want all %d distinct definitions", res.Added(), res.Count(backend.IndexServing), len(want))
	}
	listed, err := b.ListIndexes(t.Context(), app)
	if err != nil {
		t.Fatal(err)
	}
	got := map[appconfig.IndexKey]bool{}
	for _, ix := range listed {
		if got[Key(ix.Def)] {
			t.Errorf("index %s listed twice", Describe(ix.Def))
		}
		got[Key(ix.Def)] = true
		if ix.State != backend.IndexServing {
			t.Errorf("index %s is %s after waiting", Describe(ix.Def), ix.State)
		}
	}
	if fmt.Sprint(sortedKeys(got)) != fmt.Sprint(sortedKeys(want)) {
		t.Fatalf("listed back:\n%v\nwant index.yaml's definitions:\n%v", sortedKeys(got), sortedKeys(want))
	}
	// Each listed definition is exactly the file's first entry with its
	// key, not just an equal key: kind, ancestor, and the properties with
	// their directions as written (a trailing __key__ asc included).
	first := map[appconfig.IndexKey]backend.IndexDef{}
	for _, ix := range defs.Indexes {
		if def, err := ToDef(ix); err == nil {
			if _, seen := first[ix.Key()]; !seen {
				first[ix.Key()] = def
			}
		}
	}
	for _, ix := range listed {
		if want := first[Key(ix.Def)]; fmt.Sprintf("%+v", ix.Def) != fmt.Sprintf("%+v", want) {
			t.Errorf("listed back as %+v, index.yaml defines %+v", ix.Def, want)
		}
	}
	again, err := Update(t.Context(), b, app, defs, Options{}, nil)
	if err != nil || again.Added() != 0 {
		t.Fatalf("second update: added %d, %v; want a no-op", again.Added(), err)
	}
	cands, err := Plan(t.Context(), b, app, defs)
	if err != nil || len(cands) != 0 {
		t.Fatalf("vacuum plan after pushing the same file: %+v, %v; want nothing to delete", cands, err)
	}
	return len(want), len(res.Skipped)
}

func sortedKeys(m map[appconfig.IndexKey]bool) []string {
	var out []string
	for k := range m {
		out = append(out, fmt.Sprintf("%s|%t|%s", k.Kind, k.Ancestor, k.Properties))
	}
	sort.Strings(out)
	return out
}
