package yaml11

import (
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/internal/suggest"
)

// Meta records where a decoded mapping came from. Embed it in a config
// struct as `Meta yaml11.Meta `yaml:"-"“ and the decoder fills it in, so
// later checks can report a field's exact line and column.
type Meta struct {
	Path   string         // field path of the mapping, e.g. "handlers[2]"
	Pos    Pos            // where the mapping starts
	Keys   []string       // keys present, in document order
	ValPos map[string]Pos // position of each key's value
	KeyPos map[string]Pos // position of each key
	Nulls  map[string]bool
}

// Has reports whether key was present in the mapping (even with a null value).
func (m *Meta) Has(key string) bool {
	_, ok := m.ValPos[key]
	return ok
}

// IsNull reports whether key was present with a null value.
func (m *Meta) IsNull(key string) bool { return m.Nulls[key] }

// At is the position of key's value, or of the mapping when key is absent.
func (m *Meta) At(key string) Pos {
	if p, ok := m.ValPos[key]; ok {
		return p
	}
	return m.Pos
}

// KeyAt is the position of key itself, or of the mapping when key is absent.
func (m *Meta) KeyAt(key string) Pos {
	if p, ok := m.KeyPos[key]; ok {
		return p
	}
	return m.Pos
}

// Field is the full path of key inside this mapping, e.g. "handlers[2].url".
func (m *Meta) Field(key string) string { return JoinPath(m.Path, key) }

// JoinPath joins a parent field path and a key.
func JoinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// Named lets a config struct give the class name the SDK uses in messages
// (AppInfoExternal, URLMap …).
type Named interface{ SDKName() string }

var (
	metaType = reflect.TypeOf(Meta{})
	nodeType = reflect.TypeOf((*yaml.Node)(nil))
)

// Decode fills out, a pointer to a struct, from the mapping n. Every problem
// (unknown key, wrong type, value that does not convert) is added to r and
// decoding goes on, so one pass reports all of them.
//
// Field types understood: string (gets Python's str() of the scalar), bool,
// int, int64, float64, pointers to those (nil when absent or null), slices,
// map[string]string, nested structs and pointers to structs, and *yaml.Node
// (kept raw for the caller). path is the field path of n ("" at the top).
func Decode(n *yaml.Node, out any, path string, r *Report) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic("yaml11.Decode: out must be a pointer to a struct")
	}
	d := decoder{r: r}
	d.value(n, v.Elem(), path, path)
}

// DecodePy is Decode with the SDK's bool fields of appinfo: a value that
// is no YAML boolean is read as Python's bool() reads it (a non-empty
// string or list is true, "false" quoted included), and a string field given
// a list takes its str(), each with a warning, where
// Decode refuses it. The SDK accepts such files, so appcfg must too; the
// warning says what the SDK made of the value.
func DecodePy(n *yaml.Node, out any, path string, r *Report) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic("yaml11.DecodePy: out must be a pointer to a struct")
	}
	d := decoder{r: r, pyBool: true}
	d.value(n, v.Elem(), path, path)
}

type decoder struct {
	r      *Report
	pyBool bool // bool fields convert as Python's bool() (DecodePy)
}

// pyBoolValue sets a bool field from a value that is not a YAML boolean,
// as the SDK's bool() conversion does, and warns.
func (d decoder) pyBoolValue(n *yaml.Node, v reflect.Value, path, key string) {
	var b bool
	var shown string
	switch n.Kind {
	case yaml.SequenceNode:
		b, shown = len(n.Content) > 0, PyRepr(n)
	default:
		s := Resolve(n)
		switch s.Kind {
		case String:
			b = s.Text != ""
		case Int:
			b = s.Int.Sign() != 0
		case Float:
			b = s.Float != 0
		}
		shown = "'" + s.Text + "'"
	}
	d.r.Warnf(NodePos(n), path, "Value %s for %s is not a boolean; the SDK reads it as %s (Python's bool())", shown, key, pyBoolName(b)).
		Hint = "write true or false, without quotes or brackets"
	v.SetBool(b)
}

// PyRepr is Python's repr() of what a node loads as (for a list or a
// mapping, its str()): None, True, 12, 'text', [1, 'a'], {'k': 'v'}.
func PyRepr(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		items := make([]string, len(n.Content))
		for i, c := range n.Content {
			items[i] = PyRepr(c)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case yaml.MappingNode:
		var items []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			items = append(items, PyRepr(n.Content[i])+": "+PyRepr(n.Content[i+1]))
		}
		return "{" + strings.Join(items, ", ") + "}"
	case yaml.AliasNode:
		if n.Alias != nil {
			return PyRepr(n.Alias)
		}
	}
	s := Resolve(n)
	if s.Kind != String && s.Kind != Timestamp {
		return s.PyStr()
	}
	t := s.PyStr()
	if strings.Contains(t, "'") && !strings.Contains(t, `"`) {
		return `"` + t + `"`
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", `\'`) + "'"
}

func pyBoolName(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func (d decoder) value(n *yaml.Node, v reflect.Value, path, key string) {
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(n))
		return
	}
	if n.Kind == yaml.AliasNode {
		return // reported by ParseDocument
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Kind == yaml.ScalarNode && Resolve(n).Kind == Null {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.value(n, p.Elem(), path, key)
		v.Set(p)
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path, key)
	case reflect.Map:
		d.stringMap(n, v, path, key)
	default:
		d.scalar(n, v, path, key)
	}
}

func (d decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.r.Errorf(NodePos(n), path, "%s should be a mapping of keys to values, not %s", describe(path), nodeWord(n))
		return
	}
	t := v.Type()
	fields := map[string]int{}
	metaIdx := -1
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == metaType {
			metaIdx = i
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" && f.IsExported() {
			fields[name] = i
		}
	}
	meta := &Meta{Path: path, Pos: NodePos(n), ValPos: map[string]Pos{}, KeyPos: map[string]Pos{}, Nulls: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.r.Errorf(NodePos(k), path, "a key must be a plain name, not %s", nodeWord(k))
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			hint := "remove it or check its spelling and indentation"
			if s := suggest.Closest(k.Value, fieldNames(fields), nil); s != "" {
				hint = "did you mean " + s + "?"
			}
			d.r.Errorf(NodePos(k), JoinPath(path, k.Value), "Unexpected attribute '%s' for object of type %s.", k.Value, sdkName(v)).
				Hint = hint
			continue
		}
		if _, dup := meta.ValPos[k.Value]; dup {
			continue // reported by ParseDocument; the first value stands
		}
		meta.Keys = append(meta.Keys, k.Value)
		meta.KeyPos[k.Value] = NodePos(k)
		meta.ValPos[k.Value] = NodePos(val)
		if val.Kind == yaml.ScalarNode && Resolve(val).Kind == Null {
			meta.Nulls[k.Value] = true
		}
		d.value(val, v.Field(idx), JoinPath(path, k.Value), k.Value)
	}
	if metaIdx >= 0 {
		v.Field(metaIdx).Set(reflect.ValueOf(*meta))
	}
}

func (d decoder) sequence(n *yaml.Node, v reflect.Value, path, key string) {
	if n.Kind == yaml.ScalarNode && Resolve(n).Kind == Null {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.r.Errorf(NodePos(n), path, "Value '%s' for %s should be a sequence but is not.", brief(n), key).
			Hint = "write each item on its own line starting with '- '"
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i), key)
	}
	v.Set(s)
}

func (d decoder) stringMap(n *yaml.Node, v reflect.Value, path, key string) {
	if n.Kind == yaml.ScalarNode && Resolve(n).Kind == Null {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.r.Errorf(NodePos(n), path, "%s should be a mapping of names to values, not %s", describe(key), nodeWord(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || val.Kind != yaml.ScalarNode {
			bad := k
			if k.Kind == yaml.ScalarNode {
				bad = val
			}
			d.r.Errorf(NodePos(bad), JoinPath(path, k.Value), "%s: names and values must be plain text, not %s", key, nodeWord(bad))
			continue
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		d.scalar(val, ev, JoinPath(path, k.Value), k.Value)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), ev)
	}
	v.Set(m)
}

func (d decoder) scalar(n *yaml.Node, v reflect.Value, path, key string) {
	if d.pyBool && v.Kind() == reflect.Bool {
		if _, ok := Resolve(n).AsBool(); n.Kind == yaml.SequenceNode || (n.Kind == yaml.ScalarNode && !ok && Resolve(n).Kind != Null) {
			d.pyBoolValue(n, v, path, key)
			return
		}
	}
	if n.Kind == yaml.SequenceNode && d.pyBool && v.Kind() == reflect.String {
		// The SDK takes str() of it; the field's own check (a pattern,
		// usually) then judges that text, as the SDK's does.
		text := PyRepr(n)
		d.r.Warnf(NodePos(n), path, "Value for %s is %s, which the SDK reads as the text '%s' (Python's str())", key, nodeWord(n), text).
			Hint = "write a single value"
		v.SetString(text)
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.r.Errorf(NodePos(n), path, "Value for %s should be a single value, not %s", key, nodeWord(n))
		return
	}
	s := Resolve(n)
	if s.Kind == Null {
		return
	}
	pos := NodePos(n)
	switch v.Kind() {
	case reflect.String:
		v.SetString(s.PyStr())
	case reflect.Bool:
		b, ok := s.AsBool()
		if !ok {
			d.r.Errorf(pos, path, "Value '%s' for %s is not a boolean", s.Text, key).
				Hint = "write true or false without quotes"
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, ok := s.AsInt()
		if !ok || v.OverflowInt(i) {
			d.r.Errorf(pos, path, "Value '%s' for %s could not be converted to type int.", s.Text, key).
				Hint = "give a whole number"
			return
		}
		v.SetInt(i)
	case reflect.Float64, reflect.Float32:
		f, ok := s.AsFloat()
		if !ok {
			d.r.Errorf(pos, path, "Value '%s' for %s could not be converted to type float.", s.Text, key).
				Hint = "give a number"
			return
		}
		v.SetFloat(f)
	default:
		panic("yaml11.Decode: unsupported field type " + v.Type().String())
	}
}

// AsBool is the scalar as a bool field takes it: YAML booleans, and the
// integers 0 and 1. The SDK also takes any string (Python's bool("false") is
// True), a trap this decoder refuses.
func (s Scalar) AsBool() (bool, bool) {
	switch s.Kind {
	case Bool:
		return s.Bool, true
	case Int:
		if s.Int.IsInt64() && (s.Int.Int64() == 0 || s.Int.Int64() == 1) {
			return s.Int.Int64() == 1, true
		}
	}
	return false, false
}

// AsInt converts as Python's int() does for the kinds YAML gives: ints,
// floats (truncated), booleans, and decimal strings.
func (s Scalar) AsInt() (int64, bool) {
	switch s.Kind {
	case Int:
		return s.Int.Int64(), s.Int.IsInt64()
	case Float:
		bf := big.NewFloat(s.Float)
		if bf.IsInf() {
			return 0, false
		}
		i, _ := bf.Int64()
		return i, true
	case Bool:
		if s.Bool {
			return 1, true
		}
		return 0, true
	case String:
		i, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(s.Text), "_", ""), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// AsFloat converts as Python's float() does for the kinds YAML gives.
func (s Scalar) AsFloat() (float64, bool) {
	switch s.Kind {
	case Float:
		return s.Float, true
	case Int:
		f, _ := new(big.Float).SetInt(s.Int).Float64()
		return f, true
	case Bool:
		if s.Bool {
			return 1, true
		}
		return 0, true
	case String:
		f, err := strconv.ParseFloat(strings.TrimSpace(s.Text), 64)
		return f, err == nil
	}
	return 0, false
}

// fieldNames are the keys of fields, sorted (so a tie is always broken the
// same way).
func fieldNames(fields map[string]int) []string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sdkName(v reflect.Value) string {
	if n, ok := v.Addr().Interface().(Named); ok {
		return n.SDKName()
	}
	return v.Type().Name()
}

func describe(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

func nodeWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value '%s'", n.Value)
	}
	return "an alias"
}

// brief renders a node shortly for a message.
func brief(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return Resolve(n).PyStr()
	}
	return nodeWord(n)
}
