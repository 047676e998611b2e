package bulkload

import (
	"encoding/base64"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/pyre"
)

// Values flowing through transforms mirror the Python objects the SDK's
// transforms produced: nil (None), string, int64, float64, bool, time.Time,
// *backend.Key, []any (list), and the typed wrappers below for the db types
// that change how a value is stored.
type (
	// text is db.Text: a string kept out of indexes.
	text string
	// blobVal is db.Blob: bytes kept out of indexes.
	blobVal []byte
	// byteString is db.ByteString: short indexed bytes.
	byteString []byte
	// geoPt is db.GeoPt.
	geoPt backend.GeoPoint
	// rawValue is a property value read from an entity that has no Python
	// counterpart here (an embedded entity); it passes through unchanged.
	rawValue backend.Value
)

// fnValue is a callable of the catalogue: a transform, or a factory that
// returns one when called with its arguments.
type fnValue struct {
	name string
	call func(st *rowState, args []any, kw map[string]any) (any, error)
	// one, when set, is call with a single argument and no keywords,
	// without building an argument slice per value.
	one func(v any) (any, error)
	// fromText, when set, is one applied to a column's text, giving the
	// stored value; fromTextKey the same for create_foreign_key's key
	// element. They spare a load boxing each value in and out of an
	// interface (a fifth of its allocations) and give the same results
	// and errors as one and call.
	fromText    func(s string) (backend.Value, error)
	fromTextKey func(s string) (backend.PathElement, error)
	// warnings are the deliberate differences from the SDK in how this
	// callable was made (re.DEBUG prints nothing): the config reports
	// them where the expression stands, errors with --strict.
	warnings []string
}

// currentProperty is transform.CURRENT_PROPERTY for create_deep_key.
type currentProperty struct{}

// rowState is what a transform may look at besides its value: the record
// being imported (the SDK's bulkload_state.current_dictionary).
type rowState struct {
	rec *record
	ns  string
	// tmpl is the record with __record_number__, built for the first
	// import_template that needs it.
	tmpl map[string]string
	// slab hands out the keys of a batch's entities, allocated a few
	// hundred at a time rather than one by one.
	slab *keySlab
	// set counts the properties the record's conversion stored.
	set int
}

type keySlab struct {
	keys []backend.Key
	pes  []backend.PathElement
}

// key returns a one-element key, from the slab.
func (st *rowState) key(ns string, pe backend.PathElement) *backend.Key {
	if st.slab == nil {
		st.slab = &keySlab{}
	}
	sl := st.slab
	if len(sl.keys) == cap(sl.keys) {
		sl.keys = make([]backend.Key, 0, 256)
		sl.pes = make([]backend.PathElement, 0, 256)
	}
	sl.pes = append(sl.pes, pe)
	sl.keys = append(sl.keys, backend.Key{Namespace: ns, Path: sl.pes[len(sl.pes)-1 : len(sl.pes) : len(sl.pes)]})
	return &sl.keys[len(sl.keys)-1]
}

// recordNumberField is the pseudo-column holding the record's number, as
// the SDK's __record_number__.
const recordNumberField = "__record_number__"

// get returns a column of the record, or its number for __record_number__.
func (st *rowState) get(col string) (string, bool) {
	if st.rec == nil {
		return "", false
	}
	if col == recordNumberField {
		return strconv.Itoa(st.rec.num), true
	}
	return st.rec.get(col)
}

// templateFields returns the record with __record_number__, for
// import_template.
func (st *rowState) templateFields() map[string]string {
	if st.tmpl == nil {
		st.tmpl = map[string]string{}
		if st.rec != nil {
			for k, v := range st.rec.fieldMap() {
				st.tmpl[k] = v
			}
			st.tmpl[recordNumberField] = strconv.Itoa(st.rec.num)
		}
	}
	return st.tmpl
}

// transformFn is a resolved transform, ready to apply to a value.
type transformFn struct {
	expr string
	fn   fnValue
}

func (t *transformFn) apply(st *rowState, v any) (any, error) {
	if t == nil {
		return v, nil
	}
	if t.fn.one != nil {
		return t.fn.one(v)
	}
	return t.fn.call(st, []any{v}, nil)
}

// unary makes a one-argument transform.
func unary(name string, f func(v any) (any, error)) fnValue {
	return fnValue{name: name, call: func(st *rowState, args []any, kw map[string]any) (any, error) {
		if len(args) != 1 || len(kw) != 0 {
			return nil, fmt.Errorf("%s takes exactly 1 argument (%d given)", name, len(args)+len(kw))
		}
		return f(args[0])
	}, one: f}
}

// factory makes a transform factory: called with arguments (checked when
// the config loads) it returns the transform.
func factory(name string, params []string, required int, build func(args []any) (fnValue, error)) fnValue {
	return fnValue{name: name, call: func(_ *rowState, args []any, kw map[string]any) (any, error) {
		all := append([]any(nil), args...)
		if len(all) > len(params) && params[len(params)-1] != "*" {
			return nil, fmt.Errorf("%s takes at most %d arguments (%d given)", name, len(params), len(all))
		}
		for k, v := range kw {
			i := indexOf(params, k)
			if i < 0 {
				return nil, fmt.Errorf("%s got an unexpected keyword argument %s", name, k)
			}
			for len(all) <= i {
				all = append(all, missingArg{})
			}
			if _, ok := all[i].(missingArg); !ok {
				return nil, fmt.Errorf("%s got multiple values for argument %s", name, k)
			}
			all[i] = v
		}
		for i := 0; i < required; i++ {
			if i >= len(all) {
				return nil, fmt.Errorf("%s needs the argument %s", name, params[i])
			}
			if _, ok := all[i].(missingArg); ok {
				return nil, fmt.Errorf("%s needs the argument %s", name, params[i])
			}
		}
		fn, err := build(all)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return fn, nil
	}}
}

type missingArg struct{}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

func argOr(args []any, i int, def any) any {
	if i < len(args) {
		if _, ok := args[i].(missingArg); !ok {
			return args[i]
		}
	}
	return def
}

func strArg(args []any, i int, what string) (string, error) {
	s, ok := argOr(args, i, nil).(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", what)
	}
	return s, nil
}

func fnArg(args []any, i int, what string) (fnValue, error) {
	f, ok := argOr(args, i, nil).(fnValue)
	if !ok {
		return fnValue{}, fmt.Errorf("%s must be a transform, such as int or db.Text", what)
	}
	return f, nil
}

// catalogue maps canonical names ("int", "transform.none_if_empty",
// "db.Text", "re.IGNORECASE") to what they evaluate to. It is built on
// first use, by a bulkloader.yaml: at init it cost every command 200
// allocations.
var catalogue = sync.OnceValue(buildCatalogue)

// catalogueNames lists the catalogue for error messages.
func catalogueNames() string {
	var names []string
	for n, v := range catalogue() {
		if _, ok := v.(fnValue); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// moduleNames maps what python_preamble imports to the canonical module
// prefix of the catalogue.
var moduleNames = map[string]string{
	"google.appengine.ext.bulkload.transform": "transform",
	"google.appengine.ext.db":                 "db",
	"google.appengine.api.datastore":          "datastore",
	"google.appengine.api.datastore_types":    "datastore",
	"google.appengine.api.users":              "users",
	"base64":                                  "base64",
	"re":                                      "re",
}

func buildCatalogue() map[string]any {
	c := map[string]any{}
	add := func(f fnValue, aliases ...string) {
		c[f.name] = f
		for _, a := range aliases {
			c[a] = f
		}
	}
	// Builtins.
	intFn := unary("int", toInt)
	intFn.fromText = func(s string) (backend.Value, error) {
		n, err := intFromText(s)
		return backend.Value{Type: backend.IntType, Int: n}, err
	}
	add(intFn, "long")
	floatFn := unary("float", toFloat)
	floatFn.fromText = func(s string) (backend.Value, error) {
		f, err := floatFromText(s)
		return backend.Value{Type: backend.DoubleType, Double: f}, err
	}
	add(floatFn)
	add(unary("str", func(v any) (any, error) { return pyStr(v), nil }), "unicode")
	add(unary("bool", func(v any) (any, error) { return truthy(v), nil }))
	add(unary("list", toList))
	// Datastore types.
	for _, m := range []string{"db", "datastore"} {
		add(unary(m+".Text", func(v any) (any, error) { return text(pyStr(v)), nil }))
		add(unary(m+".Blob", func(v any) (any, error) { return blobVal(toBytes(v)), nil }))
		add(unary(m+".ByteString", func(v any) (any, error) { return byteString(toBytes(v)), nil }))
		for _, n := range []string{"Link", "Email", "Category", "PhoneNumber", "PostalAddress", "IM"} {
			add(unary(m+"."+n, func(v any) (any, error) { return pyStr(v), nil }))
		}
		add(unary(m+".Rating", func(v any) (any, error) {
			r, err := toInt(v)
			if err != nil {
				return nil, err
			}
			if n := r.(int64); n < 0 || n > 100 {
				return nil, fmt.Errorf("rating %d is not in 0..100", n)
			}
			return r, nil
		}))
		add(unary(m+".GeoPt", toGeoPt))
		add(unary(m+".Key.name", keyPart(func(pe backend.PathElement) any { return nilIfEmpty(pe.Name) })))
		add(unary(m+".Key.id", keyPart(func(pe backend.PathElement) any {
			if pe.ID == 0 {
				return nil
			}
			return pe.ID
		})))
		add(unary(m+".Key.id_or_name", keyPart(idOrName)))
		add(unary(m+".Key.kind", keyPart(func(pe backend.PathElement) any { return pe.Kind })))
	}
	add(unary("users.User", func(v any) (any, error) {
		s := pyStr(v)
		if s == "" {
			return nil, fmt.Errorf("users.User needs an email address")
		}
		return s, nil
	}))
	// base64.
	add(unary("base64.b64encode", func(v any) (any, error) { return base64.StdEncoding.EncodeToString(toBytes(v)), nil }))
	add(unary("base64.urlsafe_b64encode", func(v any) (any, error) { return base64.URLEncoding.EncodeToString(toBytes(v)), nil }))
	add(unary("base64.b64decode", func(v any) (any, error) { return b64(base64.StdEncoding, v) }))
	add(unary("base64.urlsafe_b64decode", func(v any) (any, error) { return b64(base64.URLEncoding, v) }))
	// re flags.
	for name, f := range map[string]pyre.Flags{"IGNORECASE": pyre.IgnoreCase, "I": pyre.IgnoreCase, "MULTILINE": pyre.Multiline, "M": pyre.Multiline, "DOTALL": pyre.DotAll, "S": pyre.DotAll, "UNICODE": pyre.Unicode, "U": pyre.Unicode, "LOCALE": pyre.Locale, "L": pyre.Locale, "VERBOSE": pyre.Verbose, "X": pyre.Verbose, "TEMPLATE": pyre.Template, "T": pyre.Template, "DEBUG": pyre.Debug} {
		c["re."+name] = int64(f)
	}
	// transform.
	c["transform.CURRENT_PROPERTY"] = currentProperty{}
	add(factory("transform.none_if_empty", []string{"fn"}, 1, func(a []any) (fnValue, error) {
		f, err := fnArg(a, 0, "fn")
		return unary("none_if_empty", func(v any) (any, error) {
			if v == nil || v == "" {
				return nil, nil
			}
			return f.call(nil, []any{v}, nil)
		}), err
	}))
	add(factory("transform.empty_if_none", []string{"fn"}, 1, func(a []any) (fnValue, error) {
		f, err := fnArg(a, 0, "fn")
		return unary("empty_if_none", func(v any) (any, error) {
			if v == nil {
				return "", nil
			}
			return f.call(nil, []any{v}, nil)
		}), err
	}))
	add(factory("transform.create_foreign_key", []string{"kind", "key_is_id"}, 1, func(a []any) (fnValue, error) {
		kind, err := strArg(a, 0, "kind")
		isID := truthy(argOr(a, 1, false))
		return fnValue{name: "create_foreign_key", call: func(st *rowState, args []any, _ map[string]any) (any, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("create_foreign_key takes 1 value")
			}
			v := args[0]
			if v == nil {
				return nil, nil
			}
			pe, err := pathElement(kind, v, isID)
			if err != nil {
				return nil, err
			}
			return &backend.Key{Namespace: st.namespace(), Path: []backend.PathElement{pe}}, nil
		}, fromTextKey: func(s string) (backend.PathElement, error) {
			return pathElementText(kind, s, isID)
		}}, err
	}))
	add(factory("transform.create_deep_key", []string{"*"}, 0, func(a []any) (fnValue, error) {
		type step struct {
			kind string
			col  any
			isID bool
		}
		var steps []step
		for i, p := range a {
			t, ok := p.([]any)
			if !ok || len(t) < 2 || len(t) > 3 {
				return fnValue{}, fmt.Errorf("argument %d must be a (kind, column, is_id) tuple", i+1)
			}
			kind, ok := t[0].(string)
			if !ok {
				return fnValue{}, fmt.Errorf("argument %d: the kind must be a string", i+1)
			}
			steps = append(steps, step{kind, t[1], len(t) == 3 && truthy(t[2])})
		}
		if len(steps) == 0 {
			return fnValue{}, fmt.Errorf("needs at least one (kind, column, is_id) tuple")
		}
		return fnValue{name: "create_deep_key", call: func(st *rowState, args []any, _ map[string]any) (any, error) {
			k := &backend.Key{Namespace: st.namespace()}
			for _, s := range steps {
				var v any
				switch col := s.col.(type) {
				case currentProperty:
					v = args[0]
				case string:
					cell, ok := st.get(col)
					if !ok {
						return nil, fmt.Errorf("create_deep_key: the record has no column %s", col)
					}
					v = cell
				default:
					return nil, fmt.Errorf("create_deep_key: the column must be a name or transform.CURRENT_PROPERTY")
				}
				pe, err := pathElement(s.kind, v, s.isID)
				if err != nil {
					return nil, err
				}
				k.Path = append(k.Path, pe)
			}
			return k, nil
		}}, nil
	}))
	add(unary("transform.key_id_or_name_as_string", func(v any) (any, error) {
		k, err := asKey(v)
		if k == nil || err != nil {
			return nil, err
		}
		return pyStr(idOrName(k.Path[len(k.Path)-1])), nil
	}))
	nth := func(name string, f func(pe backend.PathElement) any) fnValue {
		return factory("transform."+name, []string{"index"}, 1, func(a []any) (fnValue, error) {
			i, ok := a[0].(int64)
			if !ok {
				return fnValue{}, fmt.Errorf("the index must be an integer")
			}
			return unary(name, func(v any) (any, error) {
				k, err := asKey(v)
				if k == nil || err != nil {
					return nil, err
				}
				if int(i) >= len(k.Path) || i < 0 {
					return "", nil
				}
				return f(k.Path[i]), nil
			}), nil
		})
	}
	add(nth("key_id_or_name_as_string_n", func(pe backend.PathElement) any { return pyStr(idOrName(pe)) }))
	add(nth("key_kind_n", func(pe backend.PathElement) any { return pe.Kind }))
	add(nth("key_type_n", func(pe backend.PathElement) any {
		if pe.Name != "" {
			return "name"
		}
		return "ID"
	}))
	add(unary("transform.blobproperty_from_base64", func(v any) (any, error) {
		b, err := b64(base64.StdEncoding, v)
		if b == nil || err != nil {
			return nil, err
		}
		return blobVal(b.([]byte)), nil
	}))
	add(unary("transform.bytestring_from_base64", func(v any) (any, error) {
		b, err := b64(base64.StdEncoding, v)
		if b == nil || err != nil {
			return nil, err
		}
		return byteString(b.([]byte)), nil
	}))
	add(factory("transform.import_date_time", []string{"format", "_strptime"}, 1, func(a []any) (fnValue, error) {
		format, err := strArg(a, 0, "format")
		if err == nil {
			err = checkTimeFormat(format)
		}
		return unary("import_date_time", func(v any) (any, error) {
			if v == nil || v == "" {
				return nil, nil
			}
			return strptime(pyStr(v), format)
		}), err
	}))
	add(factory("transform.export_date_time", []string{"format"}, 1, func(a []any) (fnValue, error) {
		format, err := strArg(a, 0, "format")
		if err == nil {
			err = checkTimeFormat(format)
		}
		return unary("export_date_time", func(v any) (any, error) {
			if v == nil {
				return "", nil
			}
			t, ok := v.(time.Time)
			if !ok {
				return nil, fmt.Errorf("export_date_time needs a date-time, got %s", pyType(v))
			}
			return strftime(t, format), nil
		}), err
	}))
	re := func(name string, params []string, build func(re *pyre.Regexp, a []any) (func(s string) any, error)) {
		add(factory("transform."+name, params, 1, func(a []any) (fnValue, error) {
			pat, err := strArg(a, 0, params[0])
			if err != nil {
				return fnValue{}, err
			}
			flags, _ := argOr(a, indexOf(params, "flags"), int64(0)).(int64)
			rx, err := compilePython(pat, flags, name == "regexp_bool")
			if err != nil {
				return fnValue{}, err
			}
			f, err := build(rx, a)
			fn := unary(name, func(v any) (any, error) {
				if v == nil {
					return nil, nil
				}
				return f(pyStr(v)), nil
			})
			if pyre.Flags(flags)&pyre.Debug != 0 {
				fn.warnings = append(fn.warnings, "re.DEBUG: Python 2.7 prints the pattern's parse tree on stdout when it compiles it; appcfg prints nothing and matches as without the flag (drop it to silence this)")
			}
			return fn, err
		}))
	}
	re("regexp_extract", []string{"pattern", "flags"}, func(rx *pyre.Regexp, _ []any) (func(string) any, error) {
		if rx.NumSubexp() < 1 {
			return nil, fmt.Errorf("the pattern needs a group: regexp_extract returns group 1")
		}
		return func(s string) any {
			m := rx.FindStringSubmatch(s)
			if m == nil {
				return nil
			}
			return m[1]
		}, nil
	})
	re("regexp_to_list", []string{"pattern", "flags"}, func(rx *pyre.Regexp, _ []any) (func(string) any, error) {
		return func(s string) any {
			var out []any
			for _, m := range rx.FindAllStringSubmatch(s, -1) {
				if len(m) > 1 {
					out = append(out, m[1])
				} else {
					out = append(out, m[0])
				}
			}
			return out
		}, nil
	})
	re("regexp_bool", []string{"regexp", "flags"}, func(rx *pyre.Regexp, _ []any) (func(string) any, error) {
		return func(s string) any { return rx.MatchString(s) }, nil
	})
	add(factory("transform.split_string", []string{"delimeter"}, 1, func(a []any) (fnValue, error) {
		d, err := strArg(a, 0, "delimeter")
		return unary("split_string", func(v any) (any, error) {
			if v == nil {
				return nil, nil
			}
			var out []any
			for _, p := range strings.Split(pyStr(v), d) {
				out = append(out, p)
			}
			return out, nil
		}), err
	}))
	add(factory("transform.join_list", []string{"delimeter"}, 1, func(a []any) (fnValue, error) {
		d, err := strArg(a, 0, "delimeter")
		return unary("join_list", func(v any) (any, error) {
			if v == nil {
				return nil, nil
			}
			l, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("join_list needs a list, got %s", pyType(v))
			}
			parts := make([]string, len(l))
			for i, e := range l {
				parts[i] = pyStr(e)
			}
			return strings.Join(parts, d), nil
		}), err
	}))
	add(factory("transform.list_from_multiproperty", []string{"*"}, 1, func(a []any) (fnValue, error) {
		var cols []string
		for i, x := range a {
			s, ok := x.(string)
			if !ok {
				return fnValue{}, fmt.Errorf("argument %d must be a column name", i+1)
			}
			cols = append(cols, s)
		}
		return fnValue{name: "list_from_multiproperty", call: func(st *rowState, _ []any, _ map[string]any) (any, error) {
			var out []any
			for _, c := range cols {
				if v, _ := st.get(c); v != "" {
					out = append(out, v)
				}
			}
			return out, nil
		}}, nil
	}))
	add(factory("transform.property_from_list", []string{"index"}, 1, func(a []any) (fnValue, error) {
		i, ok := a[0].(int64)
		if !ok {
			return fnValue{}, fmt.Errorf("the index must be an integer")
		}
		return unary("property_from_list", func(v any) (any, error) {
			l, _ := v.([]any)
			if i < 0 || int(i) >= len(l) {
				return "", nil
			}
			return l[i], nil
		}), nil
	}))
	return c
}

// compilePython compiles a Python regular expression with re.compile's
// flags (the values Python gives re.IGNORECASE …) through internal/pyre,
// as every Python pattern is read, and as Python 2.7 reads it
// (pyre.Python27): appcfg.py runs the bulkloader on 2.7, so what 2.7
// accepts must load and match as it matched there. Global inline flags
// apply to the whole pattern wherever they stand ("a(?i)b", Python 3.11's
// error); \d \w \s \b and IGNORECASE are ASCII's unless re.UNICODE or
// "(?u)" is given; re.LOCALE is the C locale the bulkloader ran under,
// ASCII; 256 (Python 3's re.ASCII, no flag in 2.7) asks for the default;
// "\q" is q; re.TEMPLATE refuses a repetition, as 2.7's sre does, and
// re.DEBUG's printing is left out (the factory's warning says so).
// anchored gives re.match's implicit anchor at the start.
func compilePython(pat string, flags int64, anchored bool) (*pyre.Regexp, error) {
	prefix, suffix := "", ""
	if anchored {
		prefix, suffix = `\A(?:`, `)`
	}
	rx, err := pyre.Compile(pat, pyre.Flags(flags)&^pyre.HoistGlobalFlags|pyre.Python27, prefix, suffix)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pat, err)
	}
	return rx, nil
}

func (st *rowState) namespace() string {
	if st == nil {
		return ""
	}
	return st.ns
}

// pathElement makes a key path element from a cell: a name, or with isID
// (or an int value) an id.
func pathElement(kind string, v any, isID bool) (backend.PathElement, error) {
	pe := backend.PathElement{Kind: kind}
	switch x := v.(type) {
	case int64:
		pe.ID = x
	case string:
		return pathElementText(kind, x, isID)
	default:
		if isID {
			n, err := toInt(v)
			if err != nil {
				return pe, err
			}
			pe.ID = n.(int64)
		} else {
			pe.Name = pyStr(v)
		}
	}
	return checkPathElement(pe)
}

// pathElementText is pathElement of a column's text. A function of its own:
// passing the text as an any cost an allocation per record.
func pathElementText(kind, s string, isID bool) (backend.PathElement, error) {
	pe := backend.PathElement{Kind: kind}
	if isID {
		n, err := intFromText(s)
		if err != nil {
			return pe, err
		}
		pe.ID = n
	} else {
		pe.Name = s
	}
	return checkPathElement(pe)
}

func checkPathElement(pe backend.PathElement) (backend.PathElement, error) {
	if pe.ID == 0 && pe.Name == "" {
		return pe, fmt.Errorf("a key of kind %s needs a non-empty name or a non-zero id", pe.Kind)
	}
	if pe.ID < 0 {
		return pe, fmt.Errorf("a key id must be positive, not %d", pe.ID)
	}
	return pe, nil
}

func asKey(v any) (*backend.Key, error) {
	switch k := v.(type) {
	case nil:
		return nil, nil
	case *backend.Key:
		if len(k.Path) == 0 {
			return nil, nil
		}
		return k, nil
	}
	return nil, fmt.Errorf("a key is needed, got %s", pyType(v))
}

func keyPart(f func(pe backend.PathElement) any) func(v any) (any, error) {
	return func(v any) (any, error) {
		k, err := asKey(v)
		if k == nil || err != nil {
			return nil, err
		}
		return f(k.Path[len(k.Path)-1]), nil
	}
}

func idOrName(pe backend.PathElement) any {
	if pe.Name != "" {
		return pe.Name
	}
	if pe.ID == 0 {
		return nil
	}
	return pe.ID
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func b64(enc *base64.Encoding, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s := strings.TrimSpace(pyStr(v))
	b, err := enc.DecodeString(s)
	if err != nil {
		// Python accepts missing padding; so do we.
		b, err = enc.WithPadding(base64.NoPadding).DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	return b, nil
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("cannot convert float %v to integer", x)
		}
		return int64(x), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case string, text:
		n, err := intFromText(pyStr(x))
		if err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("int() argument must be a string or a number, not %s", pyType(v))
}

// intFromText is Python's int() of a string.
func intFromText(text string) (int64, error) {
	s := strings.TrimSpace(text)
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil || s == "" || strings.HasPrefix(s, "_") {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %q", text)
	}
	return n, nil
}

func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case string, text:
		f, err := floatFromText(pyStr(x))
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("float() argument must be a string or a number, not %s", pyType(v))
}

// floatFromText is Python's float() of a string.
func floatFromText(text string) (float64, error) {
	s := strings.ToLower(strings.TrimSpace(text))
	switch s {
	case "nan", "+nan", "-nan":
		return math.NaN(), nil
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), nil
	case "-inf", "-infinity":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "xp") {
		return 0, fmt.Errorf("could not convert string to float: %q", text)
	}
	return f, nil
}

func toList(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		return append([]any(nil), x...), nil
	case string:
		var out []any
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not iterable", pyType(v))
}

func toGeoPt(v any) (any, error) {
	switch x := v.(type) {
	case geoPt:
		return x, nil
	case string:
		lat, lng, ok := strings.Cut(x, ",")
		if ok {
			la, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
			ln, err2 := strconv.ParseFloat(strings.TrimSpace(lng), 64)
			if err1 == nil && err2 == nil && la >= -90 && la <= 90 && ln >= -180 && ln <= 180 {
				return geoPt{Lat: la, Lng: ln}, nil
			}
		}
		return nil, fmt.Errorf("%q is not a geo point \"lat,lon\" (lat in -90..90, lon in -180..180)", x)
	}
	return nil, fmt.Errorf("a geo point needs a \"lat,lon\" string, got %s", pyType(v))
}

func toBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case blobVal:
		return x
	case byteString:
		return x
	}
	return []byte(pyStr(v))
}

// truthy is Python's bool(): note bool("False") is True, as in the SDK.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case text:
		return x != ""
	case []any:
		return len(x) > 0
	case []byte:
		return len(x) > 0
	}
	return true
}

func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case string, text:
		return "str"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case time.Time:
		return "datetime"
	case *backend.Key:
		return "Key"
	case []any:
		return "list"
	case []byte, blobVal, byteString:
		return "bytes"
	case geoPt:
		return "GeoPt"
	}
	return fmt.Sprintf("%T", v)
}

// pyStr is Python's str() for the values transforms see.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case text:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return pyFloat(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case time.Time:
		if x.Nanosecond()/1000 != 0 {
			return x.UTC().Format("2006-01-02 15:04:05.000000")
		}
		return x.UTC().Format("2006-01-02 15:04:05")
	case *backend.Key:
		return keyString(x)
	case []byte:
		return string(x)
	case blobVal:
		return string(x)
	case byteString:
		return string(x)
	case geoPt:
		return pyFloat(x.Lat) + "," + pyFloat(x.Lng)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if s, ok := e.(string); ok {
				parts[i] = strconv.Quote(s)
			} else {
				parts[i] = pyStr(e)
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case rawValue:
		return fmt.Sprint(backend.Value(x))
	}
	return fmt.Sprint(v)
}

func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// keyString is how a key prints: its path as Kind:name or Kind:id steps
// joined by "/", the namespace first when there is one ("ns!Kind:1").
func keyString(k *backend.Key) string {
	var b strings.Builder
	if k.Namespace != "" {
		b.WriteString(k.Namespace + "!")
	}
	for i, pe := range k.Path {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(pe.Kind + ":")
		if pe.Name != "" {
			b.WriteString(strconv.Quote(pe.Name))
		} else {
			b.WriteString(strconv.FormatInt(pe.ID, 10))
		}
	}
	return b.String()
}

// toValue converts a transform's result to a Datastore value.
// textValue is toValue of a string: text, or a blob when it is not UTF-8.
func textValue(s string) backend.Value {
	if !utf8.ValidString(s) {
		return backend.Value{Type: backend.BlobType, Blob: []byte(s)}
	}
	return backend.Value{Type: backend.StringType, String: s}
}

func toValue(v any) (backend.Value, error) {
	switch x := v.(type) {
	case nil:
		return backend.Value{Type: backend.NullType}, nil
	case string:
		return textValue(x), nil
	case text:
		return backend.Value{Type: backend.StringType, String: string(x), ExcludeFromIndexes: true}, nil
	case int64:
		return backend.Value{Type: backend.IntType, Int: x}, nil
	case float64:
		return backend.Value{Type: backend.DoubleType, Double: x}, nil
	case bool:
		return backend.Value{Type: backend.BoolType, Bool: x}, nil
	case time.Time:
		return backend.Value{Type: backend.TimestampType, Time: x.UTC()}, nil
	case *backend.Key:
		return backend.Value{Type: backend.KeyType, Key: x}, nil
	case []byte:
		return backend.Value{Type: backend.BlobType, Blob: x, ExcludeFromIndexes: true}, nil
	case blobVal:
		return backend.Value{Type: backend.BlobType, Blob: x, ExcludeFromIndexes: true}, nil
	case byteString:
		return backend.Value{Type: backend.BlobType, Blob: x}, nil
	case geoPt:
		return backend.Value{Type: backend.GeoPointType, GeoPoint: backend.GeoPoint(x)}, nil
	case rawValue:
		return backend.Value(x), nil
	case []any:
		arr := make([]backend.Value, 0, len(x))
		for _, e := range x {
			ev, err := toValue(e)
			if err != nil {
				return ev, err
			}
			arr = append(arr, ev)
		}
		return backend.Value{Type: backend.ArrayType, Array: arr}, nil
	}
	return backend.Value{}, fmt.Errorf("a %s cannot be stored", pyType(v))
}

// fromValue converts a stored value to what export transforms see.
func fromValue(v backend.Value) any {
	switch v.Type {
	case backend.NullType, "":
		return nil
	case backend.BoolType:
		return v.Bool
	case backend.IntType:
		return v.Int
	case backend.DoubleType:
		return v.Double
	case backend.TimestampType:
		return v.Time.UTC()
	case backend.KeyType:
		return v.Key
	case backend.StringType:
		if v.ExcludeFromIndexes {
			return text(v.String)
		}
		return v.String
	case backend.BlobType:
		if v.ExcludeFromIndexes {
			return blobVal(v.Blob)
		}
		return byteString(v.Blob)
	case backend.GeoPointType:
		return geoPt(v.GeoPoint)
	case backend.ArrayType:
		out := make([]any, len(v.Array))
		for i, e := range v.Array {
			out[i] = fromValue(e)
		}
		return out
	}
	return rawValue(v)
}
