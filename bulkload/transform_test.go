package bulkload

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// resolveConfig is a config whose python_preamble imports the modules
// transform expressions name.
func resolveConfig() *Config {
	return &Config{aliases: map[string]string{
		"transform": "google.appengine.ext.bulkload.transform",
		"db":        "google.appengine.ext.db", "re": "re", "base64": "base64",
		"datastore": "google.appengine.api.datastore",
	}}
}

func resolveT(t *testing.T, code string) *transformFn {
	t.Helper()
	fn, err := resolveConfig().resolve(code)
	if err != nil {
		t.Fatalf("resolve(%s): %v", code, err)
	}
	return &transformFn{expr: code, fn: fn}
}

func TestTransforms(t *testing.T) {
	key := &backend.Key{Path: []backend.PathElement{{Kind: "P", Name: "root"}, {Kind: "C", ID: 42}}}
	cases := []struct {
		code string
		in   any
		want any
	}{
		{"int", "  12 ", int64(12)},
		{"long", "-3", int64(-3)},
		{"float", "2.5", 2.5},
		{"str", int64(5), "5"},
		{"str", 1.0, "1.0"},
		{"bool", "False", true}, // Python: any non-empty string is true
		{"bool", "", false},
		{"transform.none_if_empty(int)", "", nil},
		{"transform.none_if_empty(int)", "7", int64(7)},
		{"transform.empty_if_none(str)", nil, ""},
		{"db.Text", "long", text("long")},
		{"db.Blob", "ab", blobVal("ab")},
		{"db.Email", "a@b", "a@b"},
		{"db.GeoPt", "1.5, -2", geoPt{Lat: 1.5, Lng: -2}},
		{"transform.create_foreign_key('Person')", "bob", &backend.Key{Path: []backend.PathElement{{Kind: "Person", Name: "bob"}}}},
		{`transform.create_foreign_key("Person", key_is_id=True)`, "12", &backend.Key{Path: []backend.PathElement{{Kind: "Person", ID: 12}}}},
		{"transform.key_id_or_name_as_string", key, "42"},
		{"transform.key_id_or_name_as_string_n(0)", key, "root"},
		{"transform.key_kind_n(1)", key, "C"},
		{"transform.key_type_n(1)", key, "ID"},
		{"datastore.Key.name", key, nil},
		{"datastore.Key.id", key, int64(42)},
		{"transform.import_date_time('%Y-%m-%d %H:%M:%S-07')", "2010-05-06 07:08:09-07", time.Date(2010, 5, 6, 7, 8, 9, 0, time.UTC)},
		{"transform.import_date_time('%m-%d-%y')", "12-31-99", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"transform.import_date_time('%d %b %Y %I:%M %p')", "05 Jan 2011 12:30 AM", time.Date(2011, 1, 5, 0, 30, 0, 0, time.UTC)},
		{"transform.import_date_time('%Y')", "", nil},
		{"transform.export_date_time('%Y-%m-%dT%H:%M:%S')", time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), "2001-02-03T04:05:06"},
		{"transform.export_date_time('%a %d %B %Y %j %%')", time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), "Sat 03 February 2001 034 %"},
		{"transform.regexp_bool('true', re.IGNORECASE)", "TRUE", true},
		{"transform.regexp_bool('true', re.IGNORECASE)", "not true", false}, // re.match anchors at the start
		{"transform.regexp_bool('True')", "True!", true},
		{"transform.regexp_extract('id=(\\d+)')", "x id=77 y", "77"},
		{"transform.regexp_extract('id=(\\d+)')", "none", nil},
		// Python runs look-around and back-references; so does the catalogue.
		{"transform.regexp_extract('(?<=id=)(\\d+)')", "x id=77 y", "77"},
		{"transform.regexp_to_list('(\\w)\\1')", "aab bbc", []any{"a", "b"}},
		{"transform.regexp_to_list('(\\w+)@')", "a@ b@", []any{"a", "b"}},
		{"transform.split_string('|')", "a|b|", []any{"a", "b", ""}},
		{"transform.join_list(', ')", []any{"a", int64(2)}, "a, 2"},
		{"transform.blobproperty_from_base64", "AAEC", blobVal{0, 1, 2}},
		{"transform.bytestring_from_base64", "AAE", byteString{0, 1}},
		{"base64.b64encode", blobVal{0, 1, 2}, "AAEC"},
		{"transform.property_from_list(1)", []any{"a", "b"}, "b"},
		{"transform.none_if_empty(list)", "ab", []any{"a", "b"}},
	}
	for _, c := range cases {
		tr := resolveT(t, c.code)
		got, err := tr.apply(&rowState{}, c.in)
		if err != nil {
			t.Errorf("%s(%#v): %v", c.code, c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s(%#v) = %#v, want %#v", c.code, c.in, got, c.want)
		}
	}
}

func TestTransformErrors(t *testing.T) {
	for _, c := range []struct{ code, in string }{
		{"int", "1.5"},
		{"float", "abc"},
		{"transform.import_date_time('%Y-%m-%d')", "2010-13-01"},
		{"transform.import_date_time('%Y-%m-%d')", "2010-02-30"},
		{"transform.import_date_time('%Y-%m-%d')", "2010-02-03 extra"},
		{"transform.create_foreign_key('K', key_is_id=True)", "x"},
		{"transform.blobproperty_from_base64", "!!"},
		{"db.GeoPt", "91,0"},
	} {
		if got, err := resolveT(t, c.code).apply(&rowState{}, c.in); err == nil {
			t.Errorf("%s(%q) = %#v, want an error", c.code, c.in, got)
		}
	}
}

func TestDeepKey(t *testing.T) {
	tr := resolveT(t, "transform.create_deep_key(('App', 'app', False), ('Pez', transform.CURRENT_PROPERTY, True))")
	got, err := tr.apply(&rowState{rec: &record{fields: map[string]string{"app": "pezdb"}}, ns: "n"}, "17")
	if err != nil {
		t.Fatal(err)
	}
	want := &backend.Key{Namespace: "n", Path: []backend.PathElement{{Kind: "App", Name: "pezdb"}, {Kind: "Pez", ID: 17}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestResolveRefuses(t *testing.T) {
	cfg := &Config{aliases: map[string]string{"transform": "google.appengine.ext.bulkload.transform"}}
	for code, want := range map[string]string{
		"lambda x: x":                            "lambda",
		"transform.no_such":                      "not in the catalogue",
		"mymodule.fn":                            "not in the catalogue",
		"transform.none_if_empty('x')":           "must be a transform",
		"transform.create_foreign_key()":         "needs the argument kind",
		"transform.create_foreign_key('K', x=1)": "unexpected keyword",
		"transform.import_date_time('%Q')":       "not supported",
		"transform.regexp_extract('(?<n>a)')":    "pattern",
		"int + 1":                                "unexpected",
		"'just a string'":                        "did not return a callable",
		"transform.none_if_empty(int":            "expected",
	} {
		_, err := cfg.resolve(code)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("resolve(%q) = %v, want an error containing %q", code, err, want)
		}
	}
}

func TestStrftimeRoundTrip(t *testing.T) {
	tm := time.Date(2024, 2, 29, 13, 4, 5, 123456000, time.UTC)
	for _, f := range []string{"%Y-%m-%dT%H:%M:%S.%f", "%d/%m/%y %I:%M:%S %p", "%A %B %d %Y %H%M%S.%f"} {
		s := strftime(tm, f)
		back, err := strptime(s, f)
		if err != nil || !back.Equal(tm.Truncate(func() time.Duration {
			if strings.Contains(f, "%f") {
				return time.Microsecond
			}
			return time.Second
		}())) {
			t.Errorf("%s: %q parsed back as %v, %v", f, s, back, err)
		}
	}
}

func TestJSONLinesLossless(t *testing.T) {
	e := backend.Entity{Key: &backend.Key{Namespace: "ns", Path: []backend.PathElement{{Kind: "K", Name: "a"}}},
		Properties: map[string]backend.Value{
			"nan":  {Type: backend.DoubleType, Double: math.NaN()},
			"inf":  {Type: backend.DoubleType, Double: math.Inf(-1)},
			"zero": {Type: backend.DoubleType},
			"t":    {Type: backend.TimestampType, Time: time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)},
			"b":    {Type: backend.BlobType, Blob: []byte{}, ExcludeFromIndexes: true},
			"arr":  {Type: backend.ArrayType, Array: []backend.Value{{Type: backend.NullType}, {Type: backend.EntityType, Entity: &backend.Entity{Properties: map[string]backend.Value{"x": {Type: backend.IntType, Int: math.MinInt64}}}}}},
		}}
	line, err := MarshalEntity(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalEntity(line)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(got.Properties["nan"].Double) {
		t.Errorf("NaN lost: %s", line)
	}
	delete(got.Properties, "nan")
	delete(e.Properties, "nan")
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip of %s:\n got %#v\nwant %#v", line, got, e)
	}
	if _, err := UnmarshalEntity([]byte(`{"properties":{"x":{"type":"weird"}}}`)); err == nil {
		t.Error("an unknown type was accepted")
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		t.Error("unexpected")
	}
}
