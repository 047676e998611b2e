package bulkload

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func readAll(t *testing.T, r recordReader) []record {
	t.Helper()
	var out []record
	for range 10000 {
		rec, err := r.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	t.Fatal("more than 10000 records")
	return nil
}

func csvOpts(mod func(*ConnectorOptions)) ConnectorOptions {
	o := ConnectorOptions{Encoding: "utf-8", FromHeader: true, SkipImportHeaderRow: true, PrintExportHeaderRow: true,
		ImportOptions: CSVDialect{Delimiter: ',', LineTerminator: "\r\n"}, ExportOptions: CSVDialect{Delimiter: ',', LineTerminator: "\r\n"}}
	if mod != nil {
		mod(&o)
	}
	return o
}

func TestCSVReader(t *testing.T) {
	in := "\xEF\xBB\xBFa,b\n1,\"x\ny\"\n2,z\n3,4,5\n"
	r, err := newCSVReader(strings.NewReader(in), csvOpts(nil), false)
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, r)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3", len(recs))
	}
	if !reflect.DeepEqual(recs[0].fieldMap(), map[string]string{"a": "1", "b": "x\ny"}) || recs[0].line != 2 || recs[0].num != 1 {
		t.Errorf("record 1 = %+v", recs[0])
	}
	if recs[1].line != 4 || recs[1].fieldMap()["b"] != "z" {
		t.Errorf("record 2 = %+v (a quoted newline makes it start on line 4)", recs[1])
	}
	if recs[2].err == nil || !strings.Contains(recs[2].err.Error(), "more values in row than headers on line 5") {
		t.Errorf("record 3 err = %v", recs[2].err)
	}
}

func TestCSVReaderOptions(t *testing.T) {
	// column_list, tab dialect, latin-1, --has_header skipping one more.
	o := csvOpts(func(o *ConnectorOptions) {
		o.FromHeader, o.SkipImportHeaderRow = false, false
		o.ColumnList = []string{"name", "city"}
		o.ImportOptions.Delimiter = '\t'
		o.Encoding = "latin-1"
	})
	in := "skip\tme\nJos\xe9\tM\xfcnchen\n"
	r, err := newCSVReader(strings.NewReader(in), o, true)
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, r)
	if len(recs) != 1 || recs[0].fieldMap()["name"] != "José" || recs[0].fieldMap()["city"] != "München" {
		t.Fatalf("records = %+v", recs)
	}
	o.Encoding = "utf-8"
	r, _ = newCSVReader(strings.NewReader("a\tb\nJos\xe9\tx\n"), o, false)
	if recs := readAll(t, r); len(recs) != 2 || recs[1].err == nil || !strings.Contains(recs[1].err.Error(), "not valid UTF-8") {
		t.Fatalf("Latin-1 read as UTF-8: records = %+v, want the second to fail", recs)
	}
}

func TestCSVWriterEncodings(t *testing.T) {
	var b bytes.Buffer
	w, err := newCSVWriter(&b, csvOpts(func(o *ConnectorOptions) { o.Encoding = "cp1252"; o.ExportOptions.LineTerminator = "\n" }))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.write([]string{"a", "b"}, []string{"€5", "x,y"}); err != nil {
		t.Fatal(err)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "a,b\n\x805,\"x,y\"\n" {
		t.Fatalf("wrote %q", got)
	}
	w, _ = newCSVWriter(&b, csvOpts(func(o *ConnectorOptions) { o.Encoding = "ascii" }))
	if err := w.write([]string{"a"}, []string{"é"}); err == nil {
		t.Fatal("a non-ASCII value was written as ASCII")
	}
}

func TestSimpleXML(t *testing.T) {
	in := `<?xml version="1.0"?>
<wurfl><devices>
<device id="d1" user_agent="UA &amp; co"/>
<other id="no"/>
<device id="d2" user_agent="x"/>
</devices></wurfl>`
	o := ConnectorOptions{XPathToNodes: "/wurfl/devices/device", Style: "attribute_centric"}
	recs := readAll(t, newXMLReader(strings.NewReader(in), o, false))
	if len(recs) != 2 || recs[0].fieldMap()["user_agent"] != "UA & co" || recs[1].fieldMap()["id"] != "d2" || recs[1].line != 5 {
		t.Fatalf("attribute_centric records = %+v", recs)
	}
	in = "<root><node><a>1</a><b>two <i>x</i></b></node><node><a>3</a></node></root>"
	o = ConnectorOptions{XPathToNodes: "/root/node", Style: "element_centric"}
	recs = readAll(t, newXMLReader(strings.NewReader(in), o, false))
	if len(recs) != 2 || recs[0].fieldMap()["a"] != "1" || recs[0].fieldMap()["b"] != "two " || recs[1].fieldMap()["a"] != "3" {
		t.Fatalf("element_centric records = %+v", recs)
	}
	var b bytes.Buffer
	w := newXMLWriter(&b, o)
	if err := w.write([]string{"a"}, []string{"<&>"}); err != nil {
		t.Fatal(err)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	back := readAll(t, newXMLReader(&b, o, false))
	if len(back) != 1 || back[0].fieldMap()["a"] != "<&>" {
		t.Fatalf("written XML read back as %+v", back)
	}
	if _, err := newXMLReader(strings.NewReader("<root><node>"), o, false).next(); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("truncated XML: %v, want an error", err)
	}
}

func TestSimpleText(t *testing.T) {
	var b bytes.Buffer
	w := &textWriter{out: newBuf(&b), o: ConnectorOptions{Template: "%(name)s is %(age)s%%", Prolog: "BEGIN\n", Epilog: "END\n", Mode: "text"}}
	for _, r := range [][]string{{"a", "1"}, {"b", "2"}} {
		if err := w.write([]string{"name", "age"}, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "BEGIN\na is 1%\nb is 2%\nEND\n" {
		t.Fatalf("got %q", got)
	}
}

const goodConfig = `python_preamble:
- import: google.appengine.ext.bulkload.transform
- import: google.appengine.ext.db
- import: mymodels
  as: m
transformers:
- kind: Person
  connector: csv
  connector_options:
    encoding: utf-8
    import_options:
      dialect: excel-tab
  property_map:
  - property: __key__
    external_name: id
    import_transform: transform.create_foreign_key('Person', key_is_id=True)
    export_transform: transform.key_id_or_name_as_string
  - property: full
    import_template: "%(first)s %(last)s"
    export:
    - external_name: first
      export_transform: transform.regexp_extract('^(\S+)')
  - property: bio
    external_name: bio
    import_transform: db.Text
    default_value: none
- model: m.Place
  connector: simplexml
  connector_options:
    xpath_to_nodes: /places/place
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig("b.yaml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cfg.Transformer("Person")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Options.ImportOptions.Delimiter != '\t' || len(tr.Properties) != 3 || tr.Properties[2].Line != 23 {
		t.Errorf("transformer = %+v", tr)
	}
	if p, err := cfg.Transformer("Place"); err != nil || p.Connector != "simplexml" {
		t.Errorf("model m.Place: %+v, %v", p, err)
	}
	if _, err := cfg.Transformer(""); err == nil {
		t.Error("no --kind with two transformers was accepted")
	}
	e, err := tr.importRecord(record{num: 1, fields: map[string]string{"id": "9", "first": "Ada", "last": "L", "bio": "b"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if e.Key.Path[0].ID != 9 || e.Properties["full"].String != "Ada L" || !e.Properties["bio"].ExcludeFromIndexes {
		t.Fatalf("imported %+v", e)
	}
	delete(e.Properties, "bio")
	vals, err := tr.exportEntity(e)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr.exportColumns(), []string{"id", "first", "bio"}) || !reflect.DeepEqual(vals, []string{"9", "Ada", "none"}) {
		t.Fatalf("exported %v %v", tr.exportColumns(), vals)
	}
}

func TestConfigProblems(t *testing.T) {
	cases := map[string]string{
		"":                   "No configuration specified.",
		"transformers: []\n": "No transformers specified.",
		"transformers:\n- connector: csv\n  property_map: []\n":                                                                                       "b.yaml:2:3: Neither kind nor model specified for transformer.",
		"transformers:\n- kind: A\n  model: m.A\n  connector: csv\n":                                                                                  "Both kind and model specified",
		"transformers:\n- kind: A\n":                                                                                                                  "No connector specified.",
		"transformers:\n- kind: A\n  connector: mymod.factory\n":                                                                                      "b.yaml:3:14: Invalid connector specified for name=A.",
		"transformers:\n- kind: A\n  connector: csv\n  connector_options:\n    columns: foo\n":                                                        `CSV columns must be "from_header"`,
		"transformers:\n- kind: A\n  connector: csv\n  connector_options:\n    skip_import_header_row: false\n":                                       "header row must always be skipped",
		"transformers:\n- kind: A\n  connector: csv\n  property_map:\n  - property: x\n":                                                              "Neither external_name nor import_template nor export specified for property x.",
		"transformers:\n- kind: A\n  connector: csv\n  property_map:\n  - property: x\n    external_name: x\n  - property: x\n    external_name: y\n": "Duplicate property specified for property x in transform A",
		"transformers:\n- kind: A\n  connector: csv\n  property_map:\n  - property: x\n    external_name: x\n    import_transform: \"lambda v: v\"\n": "b.yaml:7:23: Invalid code for import_transform.",
		"transformers:\n- kind: A\n  connector: csv\n  post_import_function: m.fix\n":                                                                 "b.yaml:4:25: post_import_function",
		"transformers:\n- kind: A\n  connector: simplexml\n  connector_options:\n    xpath_to_nodes: a/b\n":                                           "xpath_to_nodes must be a simple path",
		"transformers:\n- kind: A\n  connector: csv\n  colour: red\n":                                                                                 `b.yaml:4:3: unknown attribute "colour"`,
		"transformers: [\n": "b.yaml:1:1: did not find expected node content",
		"transformers:\n- kind: A\n  connector: csv\n---\nx: 1\n":                                  "Multiple sections in configuration.",
		"transformers:\n- kind: A\n  connector: csv\n  connector_options:\n    encoding: ebcdic\n": "encoding \"ebcdic\" is not supported",
	}
	for src, want := range cases {
		_, err := ParseConfig("b.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %q: error %v, want one containing %q", src, err, want)
		}
	}
}

func newBuf(w io.Writer) *bufio.Writer { return bufio.NewWriter(w) }

// TestCSVRecordFields checks that a CSV record, which keeps its values by
// position, reads as the column map it stands for: the last of duplicate
// columns wins, short rows lack the missing columns, import_template sees
// __record_number__.
func TestCSVRecordFields(t *testing.T) {
	rec := record{num: 7, cols: []string{"a", "b", "a", "c"}, row: []string{"1", "2", "3"}}
	want := map[string]string{"a": "3", "b": "2"}
	if got := rec.fieldMap(); !reflect.DeepEqual(got, want) {
		t.Fatalf("fieldMap() = %v, want %v", got, want)
	}
	for _, name := range []string{"a", "b", "c", "zz"} {
		v, ok := rec.get(name)
		w, wok := want[name]
		if v != w || ok != wok {
			t.Errorf("get(%q) = %q, %t; want %q, %t", name, v, ok, w, wok)
		}
	}
	cfg, err := ParseConfig("b.yaml", []byte(`transformers:
- kind: T
  connector: csv
  property_map:
  - property: label
    import_template: "%(b)s-%(__record_number__)s"
  - property: n
    external_name: __record_number__
    import_transform: int
  - property: a
    external_name: a
`))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cfg.Transformer("T")
	if err != nil {
		t.Fatal(err)
	}
	e, err := tr.importRecord(rec, "")
	if err != nil {
		t.Fatal(err)
	}
	if e.Properties["label"].String != "2-7" || e.Properties["n"].Int != 7 || e.Properties["a"].String != "3" {
		t.Fatalf("imported %+v", e.Properties)
	}
	if _, ok := rec.get(recordNumberField); ok {
		t.Error("the record itself gained __record_number__")
	}
}
