package appconfig

import (
	"strings"
	"testing"
)

func TestParseIndexNormalises(t *testing.T) {
	defs, probs := ParseIndex("index.yaml", []byte(`indexes:
- kind: Cat
  ancestor: yes
  properties:
  - name: name
  - name: age
    direction: descending
- kind: Mountain
  properties:
  - name: name
  - name: location
    mode: geospatial
`))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	cat := defs.Indexes[0]
	if !cat.Ancestor || cat.Properties[0].Direction != "asc" || cat.Properties[1].Direction != "desc" {
		t.Errorf("Cat index = %+v", cat)
	}
	geo := defs.Indexes[1]
	if !geo.IsGeospatial() || geo.Properties[0].Direction != "" {
		t.Errorf("a geospatial index gets no default direction: %+v", geo.Properties)
	}
	if cat.Properties[1].Meta.At("direction").Line != 7 {
		t.Errorf("direction position = %+v", cat.Properties[1].Meta.At("direction"))
	}
}

func TestIndexKey(t *testing.T) {
	parse := func(src string) *Index {
		t.Helper()
		defs, probs := ParseIndex("index.yaml", []byte(src))
		if len(probs) != 0 || len(defs.Indexes) != 1 {
			t.Fatalf("%q: %v", src, probs)
		}
		return defs.Indexes[0]
	}
	base := parse("indexes:\n- kind: A\n  properties:\n  - name: x\n  - name: z\n    direction: desc\n")
	same := []string{
		"indexes:\n- kind: A\n  properties:\n  - name: x\n    direction: ascending\n  - name: z\n    direction: descending\n",
		"indexes:\n- kind: A\n  ancestor: false\n  properties:\n  - name: x\n  - name: z\n    direction: desc\n  - name: __key__\n",
	}
	for _, s := range same {
		if k := parse(s).Key(); k != base.Key() {
			t.Errorf("key %+v, want %+v for\n%s", k, base.Key(), s)
		}
	}
	different := []string{
		"indexes:\n- kind: A\n  properties:\n  - name: z\n    direction: desc\n  - name: x\n",                                         // order matters
		"indexes:\n- kind: A\n  ancestor: true\n  properties:\n  - name: x\n  - name: z\n    direction: desc\n",                       // ancestor
		"indexes:\n- kind: A\n  properties:\n  - name: x\n  - name: z\n",                                                              // direction
		"indexes:\n- kind: B\n  properties:\n  - name: x\n  - name: z\n    direction: desc\n",                                         // kind
		"indexes:\n- kind: A\n  properties:\n  - name: x\n  - name: z\n    direction: desc\n  - name: __key__\n    direction: desc\n", // __key__ desc counts
	}
	for _, s := range different {
		if k := parse(s).Key(); k == base.Key() {
			t.Errorf("key of\n%s\nequals %+v", s, k)
		}
	}
}

func TestParseIndexExactTypes(t *testing.T) {
	_, probs := ParseIndex("index.yaml", []byte("indexes:\n- kind: 2012-01-01\n  ancestor: 0\n  properties:\n  - name: on\n"))
	var msgs []string
	for _, p := range probs {
		msgs = append(msgs, p.Message)
	}
	want := []string{
		"Value 2012-01-01 for kind is not of the expected type str",
		"Value 0 for ancestor is not of the expected type bool",
		"Value True for name is not of the expected type str",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseIndexEmpty(t *testing.T) {
	for _, src := range []string{"", "# none\n", "~\n", "indexes:\n"} {
		defs, probs := ParseIndex("index.yaml", []byte(src))
		if defs == nil || len(defs.Indexes) != 0 || len(probs) != 0 {
			t.Errorf("%q: %+v %v", src, defs, probs)
		}
	}
	if defs, probs := ParseIndex("index.yaml", []byte("indexes: [\n")); defs != nil || len(probs) == 0 {
		t.Errorf("broken YAML gave %+v %v", defs, probs)
	}
}

// A value the decoder refuses is reported once, not again as the wrong type.
func TestParseIndexOneProblemPerValue(t *testing.T) {
	_, probs := ParseIndex("index.yaml", []byte("indexes:\n- kind: A\n  ancestor: 'yes'\n"))
	if len(probs) != 1 || probs[0].Line != 3 {
		t.Errorf("problems: %v", probs)
	}
}
