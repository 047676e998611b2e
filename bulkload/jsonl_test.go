package bulkload

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

// Restoring a dump never drops what it cannot place: a misnamed value field
// ("str", or the "timestamp" the docs once named where the field is
// "time"), a field of another type, an unknown entity member, and text that
// is not UTF-8 (which JSON decoding would turn into U+FFFD) are errors of
// their records, naming record and field.
func TestRestoreRefusesUnknownFieldsAndBadText(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		`{"key":{"path":[{"kind":"A","name":"ok"}]},"properties":{"s":{"type":"string","string":"x"},"t":{"type":"timestamp","time":"2020-01-02T03:04:05Z"},"e":{"type":"null"}}}`,
		`{"key":{"path":[{"kind":"A","name":"b"}]},"properties":{"name":{"type":"string","str":"x"}}}`,
		`{"key":{"path":[{"kind":"A","name":"c"}]},"properties":{"when":{"type":"timestamp","timestamp":"2020-01-02T03:04:05Z"}}}`,
		`{"key":{"path":[{"kind":"A","name":"d"}]},"properties":{"n":{"type":"string","int":5}}}`,
		`{"key":{"path":[{"kind":"A","name":"e"}]},"props":{}}`,
		"{\"key\":{\"path\":[{\"kind\":\"A\",\"name\":\"caf\xe9\"}]},\"properties\":{}}",
		`{"key":{"path":[{"kind":"A","name":"x\udc80"}]},"properties":{}}`,
		`{"key":{"path":[{"kind":"A","name":"smile \ud83d\ude00 \\udc80"}]},"properties":{"a":{"type":"array","array":[{"type":"integer","int":1},{"type":"integer","in":2}]}}}`,
		`{"key":{"path":[{"kind":"A","name":"smile \ud83d\ude00 \\udc80"}]},"properties":{}}`,
	}
	path := filepath.Join(dir, "dump.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newMemStore()
	sum, err := Upload(t.Context(), m, Options{App: "app", Filename: path, BatchSize: 10, NumThreads: 2, DBFilename: "skip"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 2 || sum.Failed != 7 {
		t.Fatalf("summary %+v, want 2 loaded and 7 failed", sum)
	}
	sort.Slice(sum.Failures, func(i, j int) bool { return sum.Failures[i].Record < sum.Failures[j].Record })
	for i, want := range []string{
		`property "name": unknown field "str" in a "string" value: its value goes in "string"`,
		`property "when": unknown field "timestamp" in a "timestamp" value: its value goes in "time"`,
		`property "n": unknown field "int" in a "string" value`,
		`unknown field "props" in an entity`,
		"byte 40 (0xe9) is not UTF-8",
		`\udc80 is an unpaired surrogate`,
		`property "a": unknown field "in" in a "integer" value`,
	} {
		if f := sum.Failures[i]; f.Record != i+2 || !strings.Contains(f.Err.Error(), want) {
			t.Errorf("failure %d = record %d: %v; want record %d containing %q", i, f.Record, f.Err, i+2, want)
		}
	}
	got := m.ents["app|"+keyString(&backend.Key{Path: []backend.PathElement{{Kind: "A", Name: "smile \U0001F600 \\udc80"}}})]
	if got.Key == nil {
		t.Errorf("the key name with a surrogate pair and an escaped backslash was not restored: %v", m.ents)
	}
}
