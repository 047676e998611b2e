package appconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/internal/yaml11"
)

// IndexDefinitions is index.yaml: the composite Datastore indexes an
// application needs.
type IndexDefinitions struct {
	Meta        Meta     `yaml:"-"`
	Application string   `yaml:"application,omitempty"`
	Indexes     []*Index `yaml:"indexes,omitempty"`
}

// Index is one composite index. Its properties are in sort-priority order.
type Index struct {
	Meta       Meta       `yaml:"-"`
	Kind       string     `yaml:"kind"`
	Ancestor   bool       `yaml:"ancestor,omitempty"`
	Properties []Property `yaml:"properties,omitempty"`
}

// Property is one property of an index. After ParseIndex, Direction is
// "asc" or "desc" (the aliases ascending/descending and a missing direction
// are normalised as the SDK does) unless Mode or VectorConfig is set or the
// index is geospatial.
type Property struct {
	Meta         Meta          `yaml:"-"`
	Name         string        `yaml:"name"`
	Direction    string        `yaml:"direction,omitempty"`
	Mode         string        `yaml:"mode,omitempty"`
	VectorConfig *VectorConfig `yaml:"vectorConfig,omitempty"`
}

// VectorConfig marks a property as the vector of a vector index.
type VectorConfig struct {
	Meta      Meta             `yaml:"-"`
	Dimension int64            `yaml:"dimension"`
	Flat      *VectorFlatIndex `yaml:"flat,omitempty"`
}

// VectorFlatIndex selects a flat vector index; it has no options yet.
type VectorFlatIndex struct {
	Meta Meta `yaml:"-"`
}

// The SDK's class names, which its messages (and ours) use.

func (*IndexDefinitions) SDKName() string { return "IndexDefinitions" }
func (*Index) SDKName() string            { return "Index" }
func (*Property) SDKName() string         { return "Property" }
func (*VectorConfig) SDKName() string     { return "VectorConfig" }
func (*VectorFlatIndex) SDKName() string  { return "VectorFlatIndex" }

// IndexKey identifies an index for comparing a local index.yaml with the
// indexes that exist on the server: two indexes with equal keys are the same
// index. It is comparable, so it can key a map.
type IndexKey struct {
	Kind       string
	Ancestor   bool
	Properties string // the properties in order, each quoted name + " " + direction or mode
}

// Key is the index's comparison key: kind, ancestor flag and the ordered
// properties with their direction (a missing direction counts as asc) or
// mode. A trailing "__key__ asc" is dropped, since every index already ends
// in ascending key order.
func (ix *Index) Key() IndexKey {
	props := make([]string, 0, len(ix.Properties))
	for _, p := range ix.Properties {
		props = append(props, strconv.Quote(p.Name)+" "+p.order())
	}
	for len(props) > 0 && props[len(props)-1] == strconv.Quote("__key__")+" asc" {
		props = props[:len(props)-1]
	}
	return IndexKey{Kind: ix.Kind, Ancestor: ix.Ancestor, Properties: strings.Join(props, ", ")}
}

// order is how the property is indexed: asc, desc, geospatial or vector.
func (p *Property) order() string {
	switch {
	case p.Mode != "":
		return p.Mode
	case p.VectorConfig != nil:
		return "vector"
	case p.Direction == "desc" || p.Direction == "descending":
		return "desc"
	}
	return "asc"
}

// IsGeospatial reports whether any property of the index is geospatial.
func (ix *Index) IsGeospatial() bool {
	for _, p := range ix.Properties {
		if p.Mode == "geospatial" {
			return true
		}
	}
	return false
}

// ParseIndex reads index.yaml. An empty file (no YAML document) gives an
// empty IndexDefinitions: the SDK treats it as no index.yaml at all.
// Problems are the file's YAML and type errors; rules on values are checked
// by the validate package.
func ParseIndex(path string, data []byte) (*IndexDefinitions, []Problem) {
	defs := &IndexDefinitions{}
	c := parseCompanion(path, data, defs, "indexes")
	if c.root == nil {
		return orNil(defs, c.r), c.r.Problems
	}
	eachItem(c.root, "indexes", defs.Indexes, func(n *yaml.Node, ix *Index) {
		c.exactType(n, "kind", &ix.Meta, yaml11.String)
		c.exactType(n, "ancestor", &ix.Meta, yaml11.Bool)
		for j, pn := range seqItems(n, "properties") {
			if j >= len(ix.Properties) {
				continue
			}
			p := &ix.Properties[j]
			c.exactType(pn, "name", &p.Meta, yaml11.String)
			if vc := mapValue(pn, "vectorConfig"); vc != nil && p.VectorConfig != nil {
				c.exactType(vc, "dimension", &p.VectorConfig.Meta, yaml11.Int)
			}
			switch p.Direction {
			case "ascending":
				p.Direction = "asc"
			case "descending":
				p.Direction = "desc"
			}
		}
		normalizeIndex(ix)
	})
	return defs, c.r.Problems
}

// normalizeIndex gives every ordinary property of an ordinary index the
// direction asc when it has none, as the SDK does once an index is read.
func normalizeIndex(ix *Index) {
	if ix.IsGeospatial() {
		return
	}
	for i := range ix.Properties {
		p := &ix.Properties[i]
		if p.VectorConfig == nil && p.Direction == "" && p.Mode == "" {
			p.Direction = "asc"
		}
	}
}

// companion is the state of one companion file being read.
type companion struct {
	r    *yaml11.Report
	root *yaml.Node // the top mapping; nil when there is none
	// hasDocument is false for a file with no YAML document at all (empty,
	// or only comments), which some kinds accept and others refuse.
	hasDocument bool
}

// parseCompanion reads data as a companion file whose top level is a
// mapping decoded into out. topKey names the file's main list (cron, queue …)
// for hints.
//
// Like the SDK, it accepts a document that is a lone value or a list of
// values (nothing is configured then; a warning says so), and refuses a list
// of mappings.
func parseCompanion(path string, data []byte, out any, topKey string) *companion {
	c := &companion{r: &yaml11.Report{File: path}}
	n := yaml11.ParseDocument(data, c.r)
	if n == nil {
		c.hasDocument = !c.r.HasErrors() && holdsDocument(data)
		return c
	}
	c.hasDocument = true
	switch n.Kind {
	case yaml.MappingNode:
		c.root = n
		yaml11.Decode(n, out, "", c.r)
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if item.Kind == yaml.MappingNode {
				c.r.Errorf(yaml11.NodePos(n), "", "the file must be a mapping of keys to values, not a list").
					Hint = fmt.Sprintf("start the file with '%s:' and indent the list under it", topKey)
				return c
			}
		}
		c.r.Warnf(yaml11.NodePos(n), "", "the file holds only a list of values, so it configures nothing").
			Hint = fmt.Sprintf("start the file with '%s:'", topKey)
	default:
		c.r.Warnf(yaml11.NodePos(n), "", "the file holds only the value '%s', so it configures nothing", n.Value).
			Hint = fmt.Sprintf("start the file with '%s:'", topKey)
	}
	return c
}

// refuseEmpty reports msg when the file holds no YAML document at all, for
// the kinds the SDK refuses then ("Empty cron configuration.").
func (c *companion) refuseEmpty(msg, hint string) {
	if !c.hasDocument && !c.r.HasErrors() {
		c.r.Errorf(Pos{Line: 1, Column: 1}, "", "%s", msg).Hint = hint
	}
}

// orNil is model, or nil when the file had errors that left nothing to
// decode (broken YAML, a list of mappings at the top).
func orNil[T any](model *T, r *yaml11.Report) *T {
	if r.HasErrors() {
		return nil
	}
	return model
}

// eachItem calls fn with the YAML node and the decoded entry of each item of
// the list under key in mapping m, for checks that need the YAML types.
func eachItem[E any](m *yaml.Node, key string, items []*E, fn func(*yaml.Node, *E)) {
	for i, n := range seqItems(m, key) {
		if i < len(items) && items[i] != nil {
			fn(n, items[i])
		}
	}
}

// holdsDocument reports whether data has a YAML document, even a null one
// ("~" or a lone "---"), as opposed to nothing but blanks and comments.
func holdsDocument(data []byte) bool {
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	return !errors.Is(err, io.EOF)
}

// mapValue is the value node of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// seqItems is the items of the list under key in mapping m; nil when it is
// not a list. Items line up with the decoded slice.
func seqItems(m *yaml.Node, key string) []*yaml.Node {
	if s := mapValue(m, key); s != nil && s.Kind == yaml.SequenceNode {
		return s.Content
	}
	return nil
}

// pyTypes names the Python type each YAML 1.1 scalar kind becomes, as the
// SDK's type messages print it.
var pyTypes = map[yaml11.Kind]string{
	yaml11.String: "str", yaml11.Int: "int", yaml11.Float: "float", yaml11.Bool: "bool", yaml11.Null: "NoneType",
}

func pyType(s yaml11.Scalar) string {
	if s.Kind == yaml11.Timestamp {
		if strings.Contains(s.Text, ":") {
			return "datetime.datetime"
		}
		return "datetime.date"
	}
	return pyTypes[s.Kind]
}

// exactType checks that key's value in mapping m is a scalar of exactly the
// YAML type want, for the fields the SDK does not convert (index kind and
// name are strings, ancestor a real boolean: ancestor: 1 or kind: 2012 fail).
func (c *companion) exactType(m *yaml.Node, key string, meta *Meta, want yaml11.Kind) {
	v := mapValue(m, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return
	}
	s := yaml11.Resolve(v)
	if s.Kind == want || s.Kind == yaml11.Null {
		return
	}
	if want == yaml11.Int && s.Kind == yaml11.Bool || c.reported(meta.Field(key)) {
		return // Python's bool is an int; or the decoder has already refused the value
	}
	p := c.r.Errorf(yaml11.NodePos(v), meta.Field(key), "Value %s for %s is not of the expected type %s", pyRepr(s), key, pyTypes[want])
	switch want {
	case yaml11.String:
		p.Hint = "quote the value so that it is read as text"
	case yaml11.Bool:
		p.Hint = "write true or false without quotes"
	case yaml11.Int:
		p.Hint = "give a whole number without quotes"
	}
}

// reported reports whether field already has an error.
func (c *companion) reported(field string) bool {
	for _, p := range c.r.Problems {
		if p.Field == field && !p.Warning {
			return true
		}
	}
	return false
}

// nonText is key's value in mapping m when it is a scalar that YAML does
// not read as text (a number, boolean, date); nil otherwise.
func nonText(m *yaml.Node, key string) (*yaml.Node, yaml11.Scalar) {
	v := mapValue(m, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return nil, yaml11.Scalar{}
	}
	s := yaml11.Resolve(v)
	if s.Kind == yaml11.String || s.Kind == yaml11.Null {
		return nil, s
	}
	return v, s
}

// stringType checks that key's value is YAML text, for the fields whose SDK
// validator refuses anything else ("schedule must be a string, not
// '<class 'int'>'").
func (c *companion) stringType(m *yaml.Node, key string, meta *Meta) {
	if v, s := nonText(m, key); v != nil {
		c.r.Errorf(yaml11.NodePos(v), meta.Field(key), "%s must be a string, not '<class '%s'>'", key, pyType(s)).
			Hint = fmt.Sprintf("quote the value: %s: '%s'", key, v.Value)
	}
}

// timeValueType checks that a time value such as job_age_limit is YAML text.
func (c *companion) timeValueType(m *yaml.Node, key string, meta *Meta) {
	if v, s := nonText(m, key); v != nil {
		c.r.Errorf(yaml11.NodePos(v), meta.Field(key), "Value '%s' for %s is not a string (%s)", s.PyStr(), key, TimeValueSyntax).
			Hint = "write a number followed by a unit, such as 30s, 10m, 2h or 1.5d"
	}
}

// TimeValueSyntax is the SDK's description of a time value (job_age_limit,
// task_age_limit).
const TimeValueSyntax = "must be a non-negative number followed by a time unit, such as 1h or 3.5d"

// pyRepr renders a scalar as Python's repr() of the value the SDK holds.
func pyRepr(s yaml11.Scalar) string {
	if s.Kind == yaml11.String {
		return "'" + s.Text + "'"
	}
	return s.PyStr()
}
