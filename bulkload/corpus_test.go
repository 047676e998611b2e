package bulkload

import (
	"errors"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/corpus"
)

// Every bulkloader.yaml of the shared corpus either loads or fails with
// problems that name file:line; transform problems list the catalogue.
func TestCorpusConfigs(t *testing.T) {
	entries := corpus.Entries(t)
	loaded, refused, transformRefusals := 0, 0, 0
	for _, e := range entries {
		if e.Kind != "bulkloader" {
			continue
		}
		cfg, err := LoadConfig(e.Path)
		if err == nil {
			loaded++
			if len(cfg.Transformers) == 0 {
				t.Errorf("%s: loaded with no transformers", e.ID)
			}
			continue
		}
		refused++
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error is not a ConfigError: %v", e.ID, err)
			continue
		}
		for _, p := range ce.Problems {
			if p.Line < 1 || p.File != e.Path {
				t.Errorf("%s: problem without file:line: %v", e.ID, p)
			}
			if strings.HasPrefix(p.Message, "Invalid code for") {
				transformRefusals++
				if !strings.Contains(p.Message, "transform.none_if_empty") || !strings.Contains(p.Message, "Supported names") {
					t.Errorf("%s: transform problem does not list the supported names: %v", e.ID, p)
				}
			}
		}
		t.Logf("%s refused: %v", e.ID, strings.SplitN(err.Error(), "Supported names", 2)[0])
	}
	t.Logf("corpus bulkloader.yaml files: %d loaded, %d refused with file:line problems (%d transform expressions outside the catalogue)", loaded, refused, transformRefusals)
	if loaded+refused == 0 {
		t.Fatal("no bulkloader entries in the corpus")
	}
}
