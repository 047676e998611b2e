package bulkload

import (
	"fmt"

	"github.com/appcfg/appcfg/backend"
)

// importRecord converts one input record to an entity, as the SDK's
// dict_to_entity: template or column, then the import transform; __key__
// becomes the key. A record without a key gets an incomplete key: the
// datastore allocates its id, as with the legacy bulkloader (the loader
// allocates it before sending and records it, so that sending it again
// overwrites instead of duplicating).
func (t *Transformer) importRecord(rec record, ns string) (backend.Entity, error) {
	var st rowState
	return t.importInto(&st, &rec, ns, nil)
}

// importInto is importRecord with the caller's rowState, which a batch's
// conversion reuses rather than allocating one per record, and props, the
// map of an entity already stored, still holding its properties (nil: a new
// one). The property map was half of a bulk load's allocations: a Value is
// 168 bytes, more than a map keeps in its slots, so each value inserted
// into an empty slot is an allocation of its own, while one stored over an
// existing key reuses that key's value. Records of one transformer set the
// same properties, so a map of the previous record is overwritten in place;
// a property this record lacks is then removed (see below).
func (t *Transformer) importInto(st *rowState, rec *record, ns string, props map[string]backend.Value) (backend.Entity, error) {
	*st = rowState{rec: rec, ns: ns, slab: st.slab}
	if props == nil {
		props = make(map[string]backend.Value, len(t.Properties))
	}
	held := len(props) // properties of the previous record
	e, err := t.fill(st, rec, ns, props)
	if err == nil && held > 0 && len(props) != st.set {
		// A property of the previous record this one does not set
		// (a missing column): start again from an empty map. Property
		// names are unique in a transformer (the config refuses
		// duplicates), so the count tells.
		clear(props)
		return t.fill(st, rec, ns, props)
	}
	return e, err
}

// fill converts rec into props, counting the properties it sets in st.set.
func (t *Transformer) fill(st *rowState, rec *record, ns string, props map[string]backend.Value) (backend.Entity, error) {
	st.set = 0
	e := backend.Entity{Properties: props}
	var keyVal any
	hasKey := false
	var textKey *backend.Key // the key, when the text fast path made it
	for _, p := range t.Properties {
		var raw any
		switch {
		case p.ImportTemplate != "":
			s, err := pyFormat(p.ImportTemplate, st.templateFields(), false)
			if err != nil {
				return e, fmt.Errorf("property %s: import_template: %w", p.Property, err)
			}
			raw = s
		case p.ExternalName != "":
			s, ok := st.get(p.ExternalName)
			if !ok {
				break
			}
			// A column's text through no transform, int, float or a
			// key of one element: straight to the stored value.
			tr := p.ImportTransform
			switch {
			case p.Property == "__key__" && tr != nil && tr.fn.fromTextKey != nil:
				pe, err := tr.fn.fromTextKey(s)
				if err != nil {
					return e, fmt.Errorf("property %s: %s: %w", p.Property, exprOf(tr), err)
				}
				textKey = st.key(ns, backend.PathElement{Kind: t.Kind, ID: pe.ID, Name: pe.Name})
				continue
			case p.Property == "__key__":
			case tr == nil:
				e.Properties[p.Property] = textValue(s)
				st.set++
				continue
			case tr.fn.fromText != nil:
				v, err := tr.fn.fromText(s)
				if err != nil {
					return e, fmt.Errorf("property %s: %s: %w", p.Property, exprOf(tr), err)
				}
				e.Properties[p.Property] = v
				st.set++
				continue
			}
			raw = s
		default:
			continue // export-only entry
		}
		v, err := p.ImportTransform.apply(st, raw)
		if err != nil {
			return e, fmt.Errorf("property %s: %s: %w", p.Property, exprOf(p.ImportTransform), err)
		}
		if p.Property == "__key__" {
			keyVal, hasKey, textKey = v, true, nil
			continue
		}
		val, err := toValue(v)
		if err != nil {
			return e, fmt.Errorf("property %s: %w", p.Property, err)
		}
		e.Properties[p.Property] = val
		st.set++
	}
	if textKey != nil {
		e.Key = textKey
		return e, nil
	}
	key, err := t.makeKey(keyVal, hasKey, ns, *rec)
	if err != nil {
		return e, err
	}
	e.Key = key
	return e, nil
}

func exprOf(t *transformFn) string {
	if t == nil {
		return "the value"
	}
	return t.expr
}

// makeKey builds the entity key from the __key__ value: a string is a key
// name, an int an id, a Key gives its id or name and parent.
func (t *Transformer) makeKey(v any, hasKey bool, ns string, rec record) (*backend.Key, error) {
	k := &backend.Key{Namespace: ns}
	switch x := v.(type) {
	case nil:
		if hasKey {
			return nil, fmt.Errorf("property __key__: the value is empty: every record needs a key")
		}
		k.Path = []backend.PathElement{{Kind: t.Kind}} // the datastore allocates its id
	case *backend.Key:
		if len(x.Path) == 0 {
			return nil, fmt.Errorf("property __key__: the key is empty")
		}
		k.Path = append(k.Path, x.Path[:len(x.Path)-1]...)
		last := x.Path[len(x.Path)-1]
		k.Path = append(k.Path, backend.PathElement{Kind: t.Kind, ID: last.ID, Name: last.Name})
	default:
		pe, err := pathElement(t.Kind, v, false)
		if err != nil {
			return nil, fmt.Errorf("property __key__: %w", err)
		}
		if _, isInt := v.(int64); !isInt {
			pe = backend.PathElement{Kind: t.Kind, Name: pyStr(v)}
		}
		k.Path = []backend.PathElement{pe}
	}
	return k, nil
}

// exportColumns lists the output columns in property_map order.
func (t *Transformer) exportColumns() []string {
	var cols []string
	for _, p := range t.Properties {
		if len(p.Export) > 0 {
			for _, c := range p.Export {
				cols = append(cols, c.ExternalName)
			}
		} else if p.ExternalName != "" {
			cols = append(cols, p.ExternalName)
		}
	}
	return cols
}

// exportEntity converts an entity to output values, in exportColumns order.
func (t *Transformer) exportEntity(e backend.Entity) ([]string, error) {
	var out []string
	for _, p := range t.Properties {
		if len(p.Export) == 0 && p.ExternalName == "" {
			continue
		}
		var v any
		if p.Property == "__key__" {
			v = e.Key
		} else if pv, ok := e.Properties[p.Property]; ok {
			v = fromValue(pv)
		} else if p.DefaultValue != nil {
			v = *p.DefaultValue
		}
		cols := p.Export
		if len(cols) == 0 {
			cols = []ExportColumn{{ExternalName: p.ExternalName, Transform: p.ExportTransform}}
		}
		for _, c := range cols {
			s, err := exportValue(v, c.Transform)
			if err != nil {
				return nil, fmt.Errorf("Error on transform. Property: %s External Name: %s. Code: %s Details: %w", //nolint:staticcheck // the legacy message
					p.Property, c.ExternalName, exprOf(c.Transform), err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func exportValue(v any, tr *transformFn) (string, error) {
	if tr != nil {
		r, err := tr.apply(nil, v)
		if err != nil {
			return "", err
		}
		v = r
	}
	if v == nil {
		return "", nil
	}
	return pyStr(v), nil
}
