package appmodel

import (
	"reflect"
	"strings"
)

// Dict returns the configuration as a map from yaml key to value, the form
// gcloud converts to the Admin API's Version resource (it does the same
// from AppInfoExternal.ToDict, dropping the SDK's defaults itself). It holds
// what the yaml tags of the model name, as serialising the model and
// reading it back would give: a key with omitempty is absent when its value
// is empty (nil, "", no items), any other is present, nil when unset.
// Values are string, bool, int64, float64, map[string]any (a nested block
// or a string map) and []any.
func (a *App) Dict() map[string]any {
	if a == nil {
		return map[string]any{}
	}
	m, _ := dictValue(reflect.ValueOf(a)).(map[string]any)
	return m
}

// dictValue is the Dict form of one value.
func dictValue(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return dictValue(v.Elem())
	case reflect.Struct:
		return dictStruct(v)
	case reflect.Map:
		// A nil map or slice is written {} or [], not null.
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			m[it.Key().String()] = dictValue(it.Value())
		}
		return m
	case reflect.Slice:
		l := make([]any, v.Len())
		for i := range l {
			l[i] = dictValue(v.Index(i))
		}
		return l
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return v.Interface()
}

// dictStruct maps a block's fields by their yaml keys; fields tagged "-"
// (positions, where a value came from) are not configuration.
func dictStruct(v reflect.Value) map[string]any {
	t := v.Type()
	m := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fv := v.Field(i)
		if strings.Contains(","+opts+",", ",omitempty,") && empty(fv) {
			continue
		}
		m[name] = dictValue(fv)
	}
	return m
}

// empty is omitempty's test: nil, zero, or no items.
func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	}
	return v.IsZero()
}
