package bulkload

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

// The text fast paths of importInto (no transform, int, float,
// create_foreign_key) give what the general path gives, errors included.
func TestTextFastPathsMatchGeneralPath(t *testing.T) {
	cfg, err := ParseConfig("bulkloader.yaml", []byte(`python_preamble:
- import: google.appengine.ext.bulkload.transform
transformers:
- kind: Row
  connector: csv
  property_map:
  - property: __key__
    external_name: id
    import_transform: transform.create_foreign_key('Row', key_is_id=True)
  - property: name
    external_name: name
  - property: n
    external_name: n
    import_transform: int
  - property: f
    external_name: f
    import_transform: float
- kind: Named
  connector: csv
  property_map:
  - property: __key__
    external_name: id
    import_transform: transform.create_foreign_key('Other')
`))
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"", "0", "7", " 42 ", "1_000", "_1", "-3", "9223372036854775808", "1.5", "nan", "-Inf", "0x10",
		"1e3", "abc", "\xff", "é", "Ñ ", "12\x00"}
	for _, kind := range []string{"Row", "Named"} {
		fast, err := cfg.Transformer(kind)
		if err != nil {
			t.Fatal(err)
		}
		slow := general(fast)
		n := 0
		for _, a := range texts {
			for _, b := range texts {
				n++
				rec := record{num: n, line: n, cols: []string{"id", "name", "n", "f"}, row: []string{a, b, b, a}}
				var st1, st2 rowState
				e1, err1 := fast.importInto(&st1, &rec, "ns", nil)
				e2, err2 := slow.importInto(&st2, &rec, "ns", nil)
				if fmt.Sprint(err1) != fmt.Sprint(err2) {
					t.Fatalf("%s %q %q: fast path error %v, general path %v", kind, a, b, err1, err2)
				}
				if err1 == nil && !reflect.DeepEqual(e1, e2) {
					t.Fatalf("%s %q %q: fast path\n%#v\ngeneral path\n%#v", kind, a, b, e1, e2)
				}
			}
		}
	}
}

// general returns a copy of tr whose transforms have no text fast path.
func general(tr *Transformer) *Transformer {
	c := *tr
	c.Properties = nil
	for _, p := range tr.Properties {
		q := *p
		if q.ImportTransform != nil {
			f := *q.ImportTransform
			f.fn.fromText, f.fn.fromTextKey = nil, nil
			q.ImportTransform = &f
		}
		c.Properties = append(c.Properties, &q)
	}
	return &c
}

// A recycled property map is overwritten in place and gives what a new map
// gives: a short row's missing column is null, and a property the previous
// entity held that this record does not set is not carried over.
func TestImportIntoReusedMapDropsStaleProperties(t *testing.T) {
	cfg, err := ParseConfig("bulkloader.yaml", []byte(`transformers:
- kind: Row
  connector: csv
  property_map:
  - property: a
    external_name: a
  - property: b
    external_name: b
`))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cfg.Transformer("Row")
	if err != nil {
		t.Fatal(err)
	}
	cols := []string{"a", "b"}
	var st rowState
	first := record{num: 1, line: 2, cols: cols, row: []string{"x", "1"}}
	e, err := tr.importInto(&st, &first, "", nil)
	if err != nil || len(e.Properties) != 2 {
		t.Fatalf("first record: %v, %v", e.Properties, err)
	}
	props := e.Properties
	props["stale"] = backend.Value{Type: backend.StringType, String: "from another entity"}
	for _, rec := range []record{
		{num: 2, line: 3, cols: cols, row: []string{"y", "2"}},
		{num: 3, line: 4, cols: cols, row: []string{"z"}},
	} {
		got, err := tr.importInto(&st, &rec, "", props)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tr.importInto(&st, &rec, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Properties, want.Properties) {
			t.Fatalf("record %d: a reused map gives\n%#v\na new one\n%#v", rec.num, got.Properties, want.Properties)
		}
	}
}
