package datastore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// The wire types are the Datastore API v1 JSON encoding
// (google-apis.md §5.3). Encoding uses them directly; decoding goes through
// raw maps, because a null value comes back as {"nullValue": null} and only
// the presence of the member says what it is.

type wirePartition struct {
	ProjectID   string `json:"projectId"`
	NamespaceID string `json:"namespaceId,omitempty"`
	DatabaseID  string `json:"databaseId,omitempty"`
}

type wirePathElement struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"` // int64 as a decimal string
	Name string `json:"name,omitempty"`
}

type wireKey struct {
	PartitionID wirePartition     `json:"partitionId"`
	Path        []wirePathElement `json:"path"`
}

type wireGeo struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type wireArray struct {
	Values []wireValue `json:"values,omitempty"`
}

type wireValue struct {
	Null      *string    `json:"nullValue,omitempty"`
	Bool      *bool      `json:"booleanValue,omitempty"`
	Int       *string    `json:"integerValue,omitempty"`
	Double    any        `json:"doubleValue,omitempty"` // float64, or "NaN"/"Infinity"/"-Infinity"
	Timestamp *string    `json:"timestampValue,omitempty"`
	Key       *wireKey   `json:"keyValue,omitempty"`
	String    *string    `json:"stringValue,omitempty"`
	Blob      *string    `json:"blobValue,omitempty"` // standard base64
	Geo       *wireGeo   `json:"geoPointValue,omitempty"`
	Array     *wireArray `json:"arrayValue,omitempty"`
	Entity    *wireEnt   `json:"entityValue,omitempty"`
	Exclude   bool       `json:"excludeFromIndexes,omitempty"`
}

type wireEnt struct {
	Key        *wireKey             `json:"key,omitempty"`
	Properties map[string]wireValue `json:"properties"`
}

// encoder turns backend entities into wire entities of one project and
// database.
type encoder struct {
	project, database string
}

// key encodes k, which CheckEntity has checked.
func (e encoder) key(k *backend.Key) *wireKey {
	w := &wireKey{
		PartitionID: wirePartition{ProjectID: e.project, NamespaceID: k.Namespace, DatabaseID: e.database},
		Path:        make([]wirePathElement, len(k.Path)),
	}
	for i, pe := range k.Path {
		we := wirePathElement{Kind: pe.Kind, Name: pe.Name}
		if pe.ID > 0 {
			we.ID = strconv.FormatInt(pe.ID, 10)
		}
		w.Path[i] = we
	}
	return w
}

// entity encodes e after checking it against Datastore's limits (one
// place for them: backend.CheckEntity), so that a bad entity gets an error
// naming its property instead of a commit failing as a whole. Its key may
// be incomplete (PutEntities allocates an id).
func (e encoder) entity(ent *backend.Entity) (*wireEnt, error) {
	if err := backend.CheckEntity(ent); err != nil {
		return nil, err
	}
	return e.checked(ent), nil
}

// checked encodes an entity CheckEntity accepted; an embedded entity may
// have no key.
func (e encoder) checked(ent *backend.Entity) *wireEnt {
	w := &wireEnt{Properties: make(map[string]wireValue, len(ent.Properties))}
	if ent.Key != nil {
		w.Key = e.key(ent.Key)
	}
	for name, v := range ent.Properties {
		w.Properties[name] = e.value(v)
	}
	return w
}

// value encodes a checked v. An array's ExcludeFromIndexes goes onto its
// elements, because the API refuses it on the array value itself.
func (e encoder) value(v backend.Value) wireValue {
	w := wireValue{Exclude: v.ExcludeFromIndexes}
	switch v.Type {
	case backend.NullType:
		s := "NULL_VALUE"
		w.Null = &s
	case backend.BoolType:
		b := v.Bool
		w.Bool = &b
	case backend.IntType:
		s := strconv.FormatInt(v.Int, 10)
		w.Int = &s
	case backend.DoubleType:
		switch {
		case math.IsNaN(v.Double):
			w.Double = "NaN"
		case math.IsInf(v.Double, 1):
			w.Double = "Infinity"
		case math.IsInf(v.Double, -1):
			w.Double = "-Infinity"
		default:
			w.Double = v.Double
		}
	case backend.TimestampType:
		s := v.Time.UTC().Format(time.RFC3339Nano)
		w.Timestamp = &s
	case backend.KeyType:
		w.Key = e.key(v.Key)
	case backend.StringType:
		s := v.String
		w.String = &s
	case backend.BlobType:
		s := base64.StdEncoding.EncodeToString(v.Blob)
		w.Blob = &s
	case backend.GeoPointType:
		w.Geo = &wireGeo{Latitude: v.GeoPoint.Lat, Longitude: v.GeoPoint.Lng}
	case backend.ArrayType:
		w.Exclude = false
		w.Array = &wireArray{Values: make([]wireValue, len(v.Array))}
		for i, el := range v.Array {
			if v.ExcludeFromIndexes {
				el.ExcludeFromIndexes = true
			}
			w.Array.Values[i] = e.value(el)
		}
	case backend.EntityType:
		w.Entity = e.checked(v.Entity)
	}
	return w
}

// decodeKey turns a wire key into a backend key. The project and database
// are the caller's: a key value pointing elsewhere cannot be represented and
// keeps only its namespace and path.
func decodeKey(raw json.RawMessage) (*backend.Key, error) {
	var w wireKey
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("decoding a key: %w", err)
	}
	k := &backend.Key{Namespace: w.PartitionID.NamespaceID, Path: make([]backend.PathElement, len(w.Path))}
	for i, pe := range w.Path {
		el := backend.PathElement{Kind: pe.Kind, Name: pe.Name}
		if pe.ID != "" {
			id, err := strconv.ParseInt(pe.ID, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("decoding a key: id %q of %s: %w", pe.ID, pe.Kind, err)
			}
			el.ID = id
		}
		k.Path[i] = el
	}
	return k, nil
}

// decodeEntity turns a wire entity into a backend entity.
func decodeEntity(raw json.RawMessage) (backend.Entity, error) {
	var w struct {
		Key        json.RawMessage            `json:"key"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return backend.Entity{}, fmt.Errorf("decoding an entity: %w", err)
	}
	ent := backend.Entity{Properties: make(map[string]backend.Value, len(w.Properties))}
	if len(w.Key) > 0 && string(w.Key) != "null" {
		k, err := decodeKey(w.Key)
		if err != nil {
			return ent, err
		}
		ent.Key = k
	}
	for name, rv := range w.Properties {
		v, err := decodeValue(rv)
		if err != nil {
			return ent, fmt.Errorf("property %q: %w", name, err)
		}
		ent.Properties[name] = v
	}
	return ent, nil
}

// decodeValue turns a wire value into a backend value. An array whose
// elements are all excluded from indexes comes back as an excluded array of
// plain elements, the form encode accepts, so values round-trip.
func decodeValue(raw json.RawMessage) (backend.Value, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return backend.Value{}, fmt.Errorf("decoding a value: %w", err)
	}
	var v backend.Value
	if ex, ok := m["excludeFromIndexes"]; ok {
		if err := json.Unmarshal(ex, &v.ExcludeFromIndexes); err != nil {
			return v, fmt.Errorf("decoding excludeFromIndexes: %w", err)
		}
	}
	var err error
	switch {
	case has(m, "nullValue"):
		v.Type = backend.NullType
	case has(m, "booleanValue"):
		v.Type = backend.BoolType
		err = json.Unmarshal(m["booleanValue"], &v.Bool)
	case has(m, "integerValue"):
		v.Type = backend.IntType
		v.Int, err = decodeInt(m["integerValue"])
	case has(m, "doubleValue"):
		v.Type = backend.DoubleType
		v.Double, err = decodeDouble(m["doubleValue"])
	case has(m, "timestampValue"):
		v.Type = backend.TimestampType
		var s string
		if err = json.Unmarshal(m["timestampValue"], &s); err == nil {
			v.Time, err = time.Parse(time.RFC3339Nano, s)
			v.Time = v.Time.UTC()
		}
	case has(m, "keyValue"):
		v.Type = backend.KeyType
		v.Key, err = decodeKey(m["keyValue"])
	case has(m, "stringValue"):
		v.Type = backend.StringType
		err = json.Unmarshal(m["stringValue"], &v.String)
	case has(m, "blobValue"):
		v.Type = backend.BlobType
		var s string
		if err = json.Unmarshal(m["blobValue"], &s); err == nil {
			v.Blob, err = decodeBase64(s)
		}
	case has(m, "geoPointValue"):
		v.Type = backend.GeoPointType
		var g wireGeo
		err = json.Unmarshal(m["geoPointValue"], &g)
		v.GeoPoint = backend.GeoPoint{Lat: g.Latitude, Lng: g.Longitude}
	case has(m, "arrayValue"):
		v.Type = backend.ArrayType
		v.Array, err = decodeArray(m["arrayValue"])
		if err == nil {
			normaliseArray(&v)
		}
	case has(m, "entityValue"):
		v.Type = backend.EntityType
		var e backend.Entity
		e, err = decodeEntity(m["entityValue"])
		v.Entity = &e
	default:
		return v, fmt.Errorf("a value of unknown type: %s", truncate(string(raw), 80))
	}
	if err != nil {
		return v, fmt.Errorf("decoding a %s value: %w", v.Type, err)
	}
	return v, nil
}

func has(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

func decodeArray(raw json.RawMessage) ([]backend.Value, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	var w struct {
		Values []json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	if len(w.Values) == 0 {
		return nil, nil // as an empty array is written: Array nil
	}
	vals := make([]backend.Value, len(w.Values))
	for i, rv := range w.Values {
		v, err := decodeValue(rv)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		vals[i] = v
	}
	return vals, nil
}

// normaliseArray moves the elements' exclusion onto the array when every
// element is excluded: that is how encode spells an excluded array.
func normaliseArray(v *backend.Value) {
	if len(v.Array) == 0 {
		return
	}
	for _, el := range v.Array {
		if !el.ExcludeFromIndexes {
			return
		}
	}
	v.ExcludeFromIndexes = true
	for i := range v.Array {
		v.Array[i].ExcludeFromIndexes = false
	}
}

// decodeInt accepts the API's decimal string and, as the emulator also
// does, a bare JSON number.
func decodeInt(raw json.RawMessage) (int64, error) {
	s := strings.Trim(string(raw), `"`)
	return strconv.ParseInt(s, 10, 64)
}

// decodeDouble accepts a JSON number or the proto3 JSON strings "NaN",
// "Infinity", "-Infinity" (and a number in a string).
func decodeDouble(raw json.RawMessage) (float64, error) {
	s := string(raw)
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return 0, err
		}
		switch str {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		s = str
	}
	return strconv.ParseFloat(s, 64)
}

// decodeBase64 accepts standard and URL-safe base64, padded or not: proto3
// JSON parsers accept both, so a server may send either.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "-_") {
		return base64.URLEncoding.DecodeString(padBase64(s))
	}
	return base64.StdEncoding.DecodeString(padBase64(s))
}

func padBase64(s string) string {
	if r := len(s) % 4; r != 0 {
		s += strings.Repeat("=", 4-r)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
