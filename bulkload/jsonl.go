package bulkload

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

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
// types.
func UnmarshalEntity(line []byte) (backend.Entity, error) {
	var j jsonEntity
	if err := json.Unmarshal(line, &j); err != nil {
		return backend.Entity{}, fmt.Errorf("not an entity in JSON: %w", err)
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
