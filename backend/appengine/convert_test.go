package appengine

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/corpus"
	"github.com/appcfg/appcfg/internal/yaml11"
)

// TestVersionResourceFromModelAsFromYAML: the Version resource converted
// from the typed model a deploy carries equals the one the deploy made
// before, when the command serialised the model as YAML and this backend
// read it back with YAML 1.1 (yamlDict, kept here as the oracle), for
// every valid app of the shared corpus and every app deployed beside
// gcloud.
func TestVersionResourceFromModelAsFromYAML(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "gcloud", "apps", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if dir := corpus.Dir(); dir != "" {
		for _, e := range corpus.Entries(t) {
			if e.Kind == "app" && e.Verdict == "ok" {
				paths = append(paths, e.Path)
			}
		}
	}
	compared := 0
	for _, p := range paths {
		switch filepath.Base(p) {
		case "index.yaml", "cron.yaml", "queue.yaml", "dispatch.yaml", "dos.yaml":
			continue // companion files
		}
		app, _ := appconfig.LoadApp(p)
		if app == nil {
			continue
		}
		data, err := yaml.Marshal(app)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		top, _ := yamlDict(&doc).(map[string]any)
		if top == nil {
			top = map[string]any{}
		}
		want, werr := versionResource(top)
		got, gerr := VersionResource(app)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: from the model: %v; from YAML: %v", p, gerr, werr)
			continue
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Errorf("%s: from the model\n  %s\nfrom YAML\n  %s", p, gj, wj)
		}
		compared++
	}
	if compared < 30 {
		t.Fatalf("compared %d apps, want the gcloud apps at least", compared)
	}
	t.Logf("%d apps: the same Version resource from the model as from its YAML", compared)
}

// yamlDict reads a YAML node with the SDK's YAML 1.1 meaning: how this
// backend read the configuration when a deploy sent it as YAML.
func yamlDict(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return yamlDict(n.Content[0])
		}
		return nil
	case yaml.AliasNode:
		return yamlDict(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[yaml11.Resolve(n.Content[i]).PyStr()] = yamlDict(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, yamlDict(c))
		}
		return l
	}
	s := yaml11.Resolve(n)
	switch s.Kind {
	case yaml11.Null:
		return nil
	case yaml11.Bool:
		return s.Bool
	case yaml11.Int:
		if s.Int != nil && s.Int.IsInt64() {
			return s.Int.Int64()
		}
		return new(big.Int).Set(s.Int)
	case yaml11.Float:
		return s.Float
	}
	return s.Text
}

// BenchmarkVersionResource converts the golden app's configuration as a
// deploy does: from the typed model, with no YAML in between.
func BenchmarkVersionResource(b *testing.B) {
	data, err := os.ReadFile("testdata/golden/app/app.yaml")
	if err != nil {
		b.Fatal(err)
	}
	app, _ := appconfig.LoadAppData("testdata/golden/app/app.yaml", data)
	for b.Loop() {
		if _, err := VersionResource(app); err != nil {
			b.Fatal(err)
		}
	}
}
