package bulkload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/appcfg/appcfg/backend"
)

// The dump format is JSON Lines: one backend.Entity per line, in the JSON
// shape backend.Value declares. JSON has no NaN or infinity, so those
// doubles are written as the strings "NaN", "Infinity" and "-Infinity";
// everything else is exactly backend.Entity's encoding.

type jsonEntity struct {
	Key        *backend.Key         `json:"key,omitempty"`
	Properties map[string]jsonValue `json:"properties"`
}

type jsonValue struct {
	Type               backend.ValueType `json:"type"`
	Bool               bool              `json:"bool,omitempty"`
	Int                int64             `json:"int,omitempty"`
	Double             *jsonDouble       `json:"double,omitempty"`
	Time               time.Time         `json:"time,omitzero"`
	Key                *backend.Key      `json:"key,omitempty"`
	String             string            `json:"string,omitempty"`
	Blob               []byte            `json:"blob,omitempty"`
	GeoPoint           backend.GeoPoint  `json:"geo,omitzero"`
	Array              []jsonValue       `json:"array,omitempty"`
	Entity             *jsonEntity       `json:"entity,omitempty"`
	ExcludeFromIndexes bool              `json:"exclude_from_indexes,omitempty"`
}

type jsonDouble float64

func (d jsonDouble) MarshalJSON() ([]byte, error) {
	f := float64(d)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(f)
}

func (d *jsonDouble) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*d = jsonDouble(math.NaN())
		return nil
	case `"Infinity"`:
		*d = jsonDouble(math.Inf(1))
		return nil
	case `"-Infinity"`:
		*d = jsonDouble(math.Inf(-1))
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("double: %w", err)
	}
	*d = jsonDouble(f)
	return nil
}

func toJSONEntity(e backend.Entity) *jsonEntity {
	j := &jsonEntity{Key: e.Key, Properties: make(map[string]jsonValue, len(e.Properties))}
	for n, v := range e.Properties {
		j.Properties[n] = toJSONValue(v)
	}
	return j
}

func toJSONValue(v backend.Value) jsonValue {
	j := jsonValue{Type: v.Type, Bool: v.Bool, Int: v.Int, Time: v.Time, Key: v.Key, String: v.String,
		Blob: v.Blob, GeoPoint: v.GeoPoint, ExcludeFromIndexes: v.ExcludeFromIndexes}
	if v.Type == backend.DoubleType {
		d := jsonDouble(v.Double)
		j.Double = &d
	}
	if v.Type == backend.BlobType && v.Blob == nil {
		j.Blob = nil
	}
	for _, e := range v.Array {
		j.Array = append(j.Array, toJSONValue(e))
	}
	if v.Entity != nil {
		j.Entity = toJSONEntity(*v.Entity)
	}
	return j
}

func fromJSONEntity(j *jsonEntity) backend.Entity {
	e := backend.Entity{Key: j.Key, Properties: make(map[string]backend.Value, len(j.Properties))}
	for n, v := range j.Properties {
		e.Properties[n] = fromJSONValue(v)
	}
	return e
}

func fromJSONValue(j jsonValue) backend.Value {
	v := backend.Value{Type: j.Type, Bool: j.Bool, Int: j.Int, Time: j.Time, Key: j.Key, String: j.String,
		Blob: j.Blob, GeoPoint: j.GeoPoint, ExcludeFromIndexes: j.ExcludeFromIndexes}
	if j.Double != nil {
		v.Double = float64(*j.Double)
	}
	if v.Type == backend.BlobType && v.Blob == nil {
		v.Blob = []byte{}
	}
	if !v.Time.IsZero() {
		v.Time = v.Time.UTC()
	}
	for _, e := range j.Array {
		v.Array = append(v.Array, fromJSONValue(e))
	}
	if j.Entity != nil {
		e := fromJSONEntity(j.Entity)
		v.Entity = &e
	}
	return v
}

// MarshalEntity encodes an entity as one line of the dump format (no
// trailing newline).
func MarshalEntity(e backend.Entity) ([]byte, error) {
	return json.Marshal(toJSONEntity(e))
}

// UnmarshalEntity decodes one line of the dump format, checking value
// types and fields: a field the format does not have, or one of another
// type than the value's ({"type":"string","str":"x"}), is an error naming
// it, never silently dropped. So is text that is not UTF-8, which JSON
// decoding would silently turn into U+FFFD.
func UnmarshalEntity(line []byte) (backend.Entity, error) {
	if err := checkJSONText(line); err != nil {
		return backend.Entity{}, err
	}
	var j jsonEntity
	if err := json.Unmarshal(line, &j); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) || errors.As(err, &te) {
			return backend.Entity{}, fmt.Errorf("not an entity in JSON: %w", err)
		}
		return backend.Entity{}, err
	}
	e := fromJSONEntity(&j)
	for n, v := range e.Properties {
		if err := checkType(v); err != nil {
			return backend.Entity{}, fmt.Errorf("property %q: %w", n, err)
		}
	}
	return e, nil
}

func checkType(v backend.Value) error {
	switch v.Type {
	case backend.NullType, backend.BoolType, backend.IntType, backend.DoubleType, backend.TimestampType,
		backend.KeyType, backend.StringType, backend.BlobType, backend.GeoPointType, backend.EntityType:
	case backend.ArrayType:
		for _, e := range v.Array {
			if err := checkType(e); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown value type %q", v.Type)
	}
	if v.Type == backend.EntityType && v.Entity != nil {
		for _, e := range v.Entity.Properties {
			if err := checkType(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// valueFields names the field that holds each type's value.
var valueFields = map[backend.ValueType]string{
	backend.BoolType: "bool", backend.IntType: "int", backend.DoubleType: "double",
	backend.TimestampType: "time", backend.KeyType: "key", backend.StringType: "string",
	backend.BlobType: "blob", backend.GeoPointType: "geo", backend.ArrayType: "array",
	backend.EntityType: "entity",
}

// UnmarshalJSON decodes an entity, naming the property whose value is wrong.
func (j *jsonEntity) UnmarshalJSON(b []byte) error {
	var raw struct {
		Key        *backend.Key               `json:"key"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := strictFields(b, "an entity", "key", "properties"); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	j.Key = raw.Key
	j.Properties = make(map[string]jsonValue, len(raw.Properties))
	for name, rv := range raw.Properties {
		var v jsonValue
		if err := json.Unmarshal(rv, &v); err != nil {
			return fmt.Errorf("property %q: %w", name, err)
		}
		j.Properties[name] = v
	}
	return nil
}

// UnmarshalJSON decodes a value whose fields are "type",
// "exclude_from_indexes" and the one field of its type.
func (j *jsonValue) UnmarshalJSON(b []byte) error {
	var t struct {
		Type backend.ValueType `json:"type"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	allowed := []string{"type", "exclude_from_indexes"}
	if f, ok := valueFields[t.Type]; ok {
		allowed = append(allowed, f)
	}
	if err := strictFields(b, "a "+strconv.Quote(string(t.Type))+" value", allowed...); err != nil {
		return err
	}
	type plain jsonValue // without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*j = jsonValue(p)
	return nil
}

// strictFields refuses an object member not in allowed, naming it and, for
// a value, the field its type takes.
func strictFields(b []byte, what string, allowed ...string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for name := range m {
		ok := false
		for _, a := range allowed {
			ok = ok || name == a
		}
		if ok {
			continue
		}
		if len(allowed) > 2 && allowed[0] == "type" {
			return fmt.Errorf("unknown field %q in %s: its value goes in %q", name, what, allowed[2])
		}
		return fmt.Errorf("unknown field %q in %s (fields: %q)", name, what, allowed)
	}
	return nil
}

// checkJSONText refuses a line that is not UTF-8, or whose \u escapes
// leave a surrogate unpaired: encoding/json would decode either to U+FFFD
// and store a key name or string other than the dump's.
func checkJSONText(line []byte) error {
	if !utf8.Valid(line) {
		i := 0
		for i < len(line) {
			r, n := utf8.DecodeRune(line[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return fmt.Errorf("byte %d (0x%02x) is not UTF-8: a dump is UTF-8 JSON; key names and strings must be valid UTF-8 (bytes go in a base64 \"blob\")", i+1, line[i])
	}
	for i := 0; i < len(line); {
		k := bytes.Index(line[i:], []byte(`\u`))
		if k < 0 {
			break
		}
		p := i + k
		// An escaped backslash (\\u...) is not an escape of u.
		bs := 0
		for q := p - 1; q >= 0 && line[q] == '\\'; q-- {
			bs++
		}
		if bs%2 == 1 || p+6 > len(line) {
			i = p + 2
			continue
		}
		r1, err := strconv.ParseUint(string(line[p+2:p+6]), 16, 32)
		if err != nil || !utf16.IsSurrogate(rune(r1)) {
			i = p + 6
			continue
		}
		if r1 < 0xDC00 && p+12 <= len(line) && line[p+6] == '\\' && line[p+7] == 'u' {
			if r2, err := strconv.ParseUint(string(line[p+8:p+12]), 16, 32); err == nil && r2 >= 0xDC00 && r2 <= 0xDFFF {
				i = p + 12
				continue
			}
		}
		return fmt.Errorf("byte %d: %s is an unpaired surrogate, not a character: key names and strings must be valid UTF-8 (bytes go in a base64 \"blob\")", p+1, line[p:p+6])
	}
	return nil
}
