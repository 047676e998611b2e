package datastore

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// sample is an entity with every value type, nested and in arrays.
func sample() backend.Entity {
	ref := &backend.Key{Namespace: "ns", Path: []backend.PathElement{{Kind: "P", Name: "p"}, {Kind: "C", ID: 9007199254740993}}}
	return backend.Entity{
		Key: &backend.Key{Namespace: "ns", Path: []backend.PathElement{{Kind: "Par", Name: "root"}, {Kind: "K", ID: 5}}},
		Properties: map[string]backend.Value{
			"null":   {Type: backend.NullType},
			"bool":   {Type: backend.BoolType, Bool: true},
			"false":  {Type: backend.BoolType},
			"int":    {Type: backend.IntType, Int: math.MinInt64},
			"zero":   {Type: backend.IntType},
			"double": {Type: backend.DoubleType, Double: -2.5e-300},
			"time":   {Type: backend.TimestampType, Time: time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)},
			"epoch":  {Type: backend.TimestampType, Time: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
			"key":    {Type: backend.KeyType, Key: ref},
			"str":    {Type: backend.StringType, String: "héllo, \"world\"\n\x00"},
			"empty":  {Type: backend.StringType},
			"text":   {Type: backend.StringType, String: strings.Repeat("x", 5000), ExcludeFromIndexes: true},
			"blob":   {Type: backend.BlobType, Blob: []byte{0, 1, 0xfb, 0xff}, ExcludeFromIndexes: true},
			"noblob": {Type: backend.BlobType, Blob: []byte{}},
			"geo":    {Type: backend.GeoPointType, GeoPoint: backend.GeoPoint{Lat: -90, Lng: 179.5}},
			"arr": {Type: backend.ArrayType, Array: []backend.Value{
				{Type: backend.IntType, Int: 1}, {Type: backend.StringType, String: "two", ExcludeFromIndexes: true}, {Type: backend.NullType},
			}},
			"exarr":  {Type: backend.ArrayType, ExcludeFromIndexes: true, Array: []backend.Value{{Type: backend.StringType, String: "a"}}},
			"noarr":  {Type: backend.ArrayType},
			"nested": {Type: backend.EntityType, ExcludeFromIndexes: true, Entity: &backend.Entity{Properties: map[string]backend.Value{"in": {Type: backend.KeyType, Key: ref}}}},
			"keyed":  {Type: backend.EntityType, Entity: &backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "E"}}}, Properties: map[string]backend.Value{}}},
		},
	}
}

// roundTrip encodes e as the API's JSON and decodes it back.
func roundTrip(t *testing.T, e backend.Entity) (backend.Entity, []byte) {
	t.Helper()
	w, err := encoder{project: "proj"}.entity(&e)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	data, err := json.Marshal(w)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	got, err := decodeEntity(data)
	if err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return got, data
}

// normalise gives blobs one spelling of empty; time.Time compares with
// Equal, so it is set to UTC.
func normalise(e backend.Entity) backend.Entity {
	for k, v := range e.Properties {
		if v.Type == backend.BlobType && len(v.Blob) == 0 {
			v.Blob = nil
		}
		if v.Type == backend.TimestampType {
			v.Time = v.Time.UTC()
		}
		e.Properties[k] = v
	}
	return e
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	want := sample()
	got, data := roundTrip(t, sample())
	if !reflect.DeepEqual(normalise(got), normalise(want)) {
		t.Fatalf("round trip changed the entity\n got %+v\nwant %+v\nwire %s", got, want, data)
	}
}

func TestEncodeWireForm(t *testing.T) {
	_, data := roundTrip(t, sample())
	var w struct {
		Key        json.RawMessage            `json:"key"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"null":   `{"nullValue":"NULL_VALUE"}`,
		"int":    `{"integerValue":"-9223372036854775808"}`,
		"zero":   `{"integerValue":"0"}`,
		"false":  `{"booleanValue":false}`,
		"time":   `{"timestampValue":"2024-02-29T23:59:58.123456Z"}`,
		"blob":   `{"blobValue":"AAH7/w==","excludeFromIndexes":true}`,
		"noblob": `{"blobValue":""}`,
		"empty":  `{"stringValue":""}`,
		"geo":    `{"geoPointValue":{"latitude":-90,"longitude":179.5}}`,
		"exarr":  `{"arrayValue":{"values":[{"stringValue":"a","excludeFromIndexes":true}]}}`,
		"noarr":  `{"arrayValue":{}}`,
	}
	for name, wv := range want {
		if got := string(w.Properties[name]); got != wv {
			t.Errorf("property %s = %s, want %s", name, got, wv)
		}
	}
	if got := string(w.Key); got != `{"partitionId":{"projectId":"proj","namespaceId":"ns"},"path":[{"kind":"Par","name":"root"},{"kind":"K","id":"5"}]}` {
		t.Errorf("key = %s", got)
	}
}

func TestDoubleSpecials(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -0.5, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		e := backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "D", Name: "d"}}},
			Properties: map[string]backend.Value{"d": {Type: backend.DoubleType, Double: f}}}
		got, data := roundTrip(t, e)
		g := got.Properties["d"].Double
		if !(g == f || (math.IsNaN(f) && math.IsNaN(g))) {
			t.Errorf("double %v came back as %v (wire %s)", f, g, data)
		}
	}
}

// TestDecodeServerForms decodes what the emulator and the API send that
// encode never writes: nullValue as JSON null, a bare-number integer, a
// double as a string, URL-safe unpadded base64, an array of all-excluded
// elements, an entity without properties.
func TestDecodeServerForms(t *testing.T) {
	raw := `{"key":{"partitionId":{"projectId":"p"},"path":[{"kind":"K","id":"12"}]},"properties":{
		"n":{"nullValue":null},
		"i":{"integerValue":42},
		"d":{"doubleValue":"-Infinity"},
		"d2":{"doubleValue":1.0},
		"b":{"blobValue":"-_8"},
		"a":{"arrayValue":{"values":[{"stringValue":"x","excludeFromIndexes":true},{"integerValue":"1","excludeFromIndexes":true}]}},
		"e":{"entityValue":{}},
		"m":{"stringValue":"old","meaning":15}}}`
	got, err := decodeEntity([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	p := got.Properties
	if p["n"].Type != backend.NullType || p["i"].Int != 42 || !math.IsInf(p["d"].Double, -1) || p["d2"].Double != 1 {
		t.Errorf("scalars decoded wrong: %+v", p)
	}
	if !reflect.DeepEqual(p["b"].Blob, []byte{0xfb, 0xff}) {
		t.Errorf("url-safe blob = %v", p["b"].Blob)
	}
	a := p["a"]
	if !a.ExcludeFromIndexes || a.Array[0].ExcludeFromIndexes || len(a.Array) != 2 {
		t.Errorf("all-excluded array not normalised: %+v", a)
	}
	if e := p["e"].Entity; e == nil || e.Key != nil || e.Properties == nil || len(e.Properties) != 0 {
		t.Errorf("empty embedded entity = %+v", e)
	}
	if got.Key.Path[0].ID != 12 || got.Key.Namespace != "" {
		t.Errorf("key = %+v", got.Key)
	}
}

func TestEncodeRefusesBadEntities(t *testing.T) {
	k := func(path ...backend.PathElement) *backend.Key { return &backend.Key{Path: path} }
	str := func(s string) map[string]backend.Value {
		return map[string]backend.Value{"p": {Type: backend.StringType, String: s}}
	}
	tests := []struct {
		name string
		e    backend.Entity
		want string
	}{
		{"no key", backend.Entity{Properties: str("x")}, "no key"},
		{"empty path", backend.Entity{Key: k()}, "1 to 100"},
		{"incomplete ancestor", backend.Entity{Key: k(backend.PathElement{Kind: "A"}, backend.PathElement{Kind: "B", Name: "b"})}, "ancestor A"},
		{"id and name", backend.Entity{Key: k(backend.PathElement{Kind: "A", ID: 1, Name: "a"})}, "both an id"},
		{"negative id", backend.Entity{Key: k(backend.PathElement{Kind: "A", ID: -1})}, "positive"},
		{"empty kind", backend.Entity{Key: k(backend.PathElement{Name: "a"})}, "kind is empty"},
		{"reserved kind", backend.Entity{Key: k(backend.PathElement{Kind: "__x__", Name: "a"})}, "reserved"},
		{"bad namespace", backend.Entity{Key: &backend.Key{Namespace: "a b", Path: []backend.PathElement{{Kind: "A", Name: "a"}}}}, "namespace"},
		{"long indexed string", backend.Entity{Key: k(backend.PathElement{Kind: "A", Name: "a"}), Properties: str(strings.Repeat("y", 1501))}, "exclude it from indexes"},
		{"bad utf8", backend.Entity{Key: k(backend.PathElement{Kind: "A", Name: "a"}), Properties: str("\xff")}, "UTF-8"},
		{"nested array", backend.Entity{Key: k(backend.PathElement{Kind: "A", Name: "a"}), Properties: map[string]backend.Value{
			"p": {Type: backend.ArrayType, Array: []backend.Value{{Type: backend.ArrayType}}}}}, "cannot contain arrays"},
		{"incomplete key value", backend.Entity{Key: k(backend.PathElement{Kind: "A", Name: "a"}), Properties: map[string]backend.Value{
			"p": {Type: backend.KeyType, Key: k(backend.PathElement{Kind: "B"})}}}, "incomplete"},
		{"bad geo", backend.Entity{Key: k(backend.PathElement{Kind: "A", Name: "a"}), Properties: map[string]backend.Value{
			"p": {Type: backend.GeoPointType, GeoPoint: backend.GeoPoint{Lat: 91}}}}, "latitude"},
		{"unknown type", backend.Entity{Key: k(backend.PathElement{Kind: "A", Name: "a"}), Properties: map[string]backend.Value{
			"p": {Type: "decimal"}}}, "unknown value type"},
		{"reserved property", backend.Entity{Key: k(backend.PathElement{Kind: "A", Name: "a"}), Properties: map[string]backend.Value{
			"__key__": {Type: backend.NullType}}}, "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encoder{project: "p"}.entity(&tt.e)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("encode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDeepNestingRefused(t *testing.T) {
	inner := &backend.Entity{Properties: map[string]backend.Value{}}
	for range backend.MaxNesting + 1 {
		inner = &backend.Entity{Properties: map[string]backend.Value{"e": {Type: backend.EntityType, Entity: inner}}}
	}
	e := backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "A", Name: "a"}}}, Properties: inner.Properties}
	if _, err := (encoder{project: "p"}).entity(&e); err == nil || !strings.Contains(err.Error(), "nest deeper") {
		t.Fatalf("encode of %d nested entities: %v, want a nesting error", backend.MaxNesting+2, err)
	}
}
