package validate

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/corpus"
)

// TestCorpus runs the validator over every file of shared/corpus and compares
// ok/error with the verdict of Google's own parser. At least 99% must agree
// for each kind; each disagreement is listed by id.
func TestCorpus(t *testing.T) {
	entries := corpus.Entries(t)
	// APPCFG_CORPUS_KINDS=index,cron limits the run to those kinds.
	only := map[string]bool{}
	for _, k := range strings.Split(os.Getenv("APPCFG_CORPUS_KINDS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			only[k] = true
		}
	}
	type tally struct{ agree, total int }
	kinds := map[string]*tally{}
	var agree, total int
	for _, e := range entries {
		if e.Verdict != "ok" && e.Verdict != "error" {
			continue // bulkloader.yaml has no SDK parser
		}
		if len(only) > 0 && !only[e.Kind] {
			continue
		}
		res := File(context.Background(), e.Path, Kind(e.Kind), Options{})
		got := "ok"
		if !res.OK() {
			got = "error"
		}
		k := kinds[e.Kind]
		if k == nil {
			k = &tally{}
			kinds[e.Kind] = k
		}
		k.total++
		total++
		if got == e.Verdict {
			k.agree++
			agree++
			continue
		}
		t.Logf("disagree %s (%s): sdk %s %q; appcfg %s %s", e.ID, e.Kind, e.Verdict, e.Message, got, firstProblem(res))
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		k := kinds[name]
		t.Logf("corpus agreement %s: %d/%d", name, k.agree, k.total)
		if k.agree*100 < k.total*99 {
			t.Errorf("%s: agreement %d/%d is below 99%%", name, k.agree, k.total)
		}
	}
	fmt.Printf("corpus agreement: %d/%d\n", agree, total)
}

func firstProblem(r FileResult) string {
	for _, p := range r.Problems {
		if !p.Warning {
			return p.String()
		}
	}
	return ""
}
