package bulkload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/internal/yaml11"
)

// Config is a parsed bulkloader.yaml.
type Config struct {
	File         string
	Preamble     []Import
	Transformers []*Transformer
	// Digest is the SHA-256 of the file, part of the progress database's
	// options signature: a changed config must not resume an old run.
	Digest string
	// Warnings are the config's deliberate differences from the SDK
	// (Problem.Warning), for the command to print, or to refuse with
	// --strict; a config with errors does not load (ConfigError).
	Warnings []Problem
	// aliases maps names the preamble binds to module names.
	aliases map[string]string
}

// Import is one python_preamble entry.
type Import struct {
	Module, As string
	Line       int
}

// Transformer is one entry of transformers: how one kind maps to records.
type Transformer struct {
	Kind             string
	Model            string
	Name             string
	Connector        string
	Options          ConnectorOptions
	UseModelOnExport bool
	Properties       []*Property
	Line             int
}

// Property is one property_map entry.
type Property struct {
	Property        string
	ExternalName    string
	ImportTemplate  string
	DefaultValue    *string
	ImportTransform *transformFn
	ExportTransform *transformFn
	Export          []ExportColumn
	Line            int
}

// ExportColumn is one entry of a property's export list.
type ExportColumn struct {
	ExternalName string
	Transform    *transformFn
}

// ConnectorOptions are the connector_options of a transformer, checked for
// the connector they belong to.
type ConnectorOptions struct {
	// csv
	Encoding             string
	FromHeader           bool
	ColumnList           []string
	SkipImportHeaderRow  bool
	PrintExportHeaderRow bool
	ImportOptions        CSVDialect
	ExportOptions        CSVDialect
	// simplexml
	XPathToNodes string
	Style        string
	// simpletext
	Template, Prolog, Epilog, Mode string
}

// CSVDialect is the subset of Python csv options Go's reader and writer
// implement.
type CSVDialect struct {
	Delimiter        rune
	SkipInitialSpace bool
	LineTerminator   string
}

// Problem is one finding about a config file, with its position: the
// type every config's findings share (internal/yaml11), so a finding can
// be a warning, has a hint, and prints and serialises as validate's do.
type Problem = yaml11.Problem

// ConfigError lists every problem found in a config file: its errors, and
// the warnings found beside them.
type ConfigError struct{ Problems []Problem }

func (e *ConfigError) Error() string {
	s := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		s[i] = p.String()
	}
	return strings.Join(s, "\n")
}

// LoadConfig reads and parses a bulkloader.yaml file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the bulkloader config: %w", err)
	}
	return ParseConfig(path, data)
}

type configParser struct {
	r   yaml11.Report
	cfg *Config
}

func (p *configParser) errf(n *yaml.Node, format string, args ...any) {
	p.r.Errorf(nodePos(n), "", format, args...)
}

// warnf records a deliberate difference from the SDK at n: a warning,
// an error with --strict (Config.Warnings).
func (p *configParser) warnf(n *yaml.Node, format string, args ...any) {
	p.r.Warnf(nodePos(n), "", format, args...)
}

// nodePos is where n is, or no position (0:0) for none.
func nodePos(n *yaml.Node) yaml11.Pos {
	if n == nil {
		return yaml11.Pos{}
	}
	return yaml11.Pos{Line: n.Line, Column: n.Column}
}

// ParseConfig parses bulkloader.yaml content; file names it in messages.
// Every transform expression is resolved against the catalogue here, so a
// config that loads has no unknown names left.
func ParseConfig(file string, data []byte) (*Config, error) {
	sum := sha256.Sum256(data)
	cfg := &Config{File: file, Digest: hex.EncodeToString(sum[:]), aliases: map[string]string{}}
	p := &configParser{r: yaml11.Report{File: file}, cfg: cfg}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line := 1 // an empty file: its start
		if m := regexp.MustCompile(`line (\d+)`).FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := regexp.MustCompile(`^(yaml: )?(line \d+: )?`).ReplaceAllString(err.Error(), "")
		if err.Error() == "EOF" {
			msg = "No configuration specified."
		}
		p.r.Errorf(yaml11.Pos{Line: line, Column: 1}, "", "%s", msg)
		return nil, &ConfigError{p.r.Problems}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errf(&extra, "Multiple sections in configuration.")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.errf(root, "No configuration specified.")
		return nil, &ConfigError{p.r.Problems}
	}
	var transformers *yaml.Node
	p.mapping(root, "the configuration", map[string]func(k, v *yaml.Node){
		"python_preamble": func(_, v *yaml.Node) { p.preamble(v) },
		"transformers":    func(_, v *yaml.Node) { transformers = v },
	})
	if transformers == nil || transformers.Kind != yaml.SequenceNode || len(transformers.Content) == 0 {
		n := transformers
		if n == nil {
			n = root
		}
		p.errf(n, "No transformers specified.")
	} else {
		for _, t := range transformers.Content {
			if tr := p.transformer(t); tr != nil {
				cfg.Transformers = append(cfg.Transformers, tr)
			}
		}
	}
	if p.r.HasErrors() {
		return nil, &ConfigError{p.r.Problems}
	}
	cfg.Warnings = p.r.Problems
	return cfg, nil
}

// mapping calls fields[key] for each key of n; unknown keys are problems.
func (p *configParser) mapping(n *yaml.Node, what string, fields map[string]func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping", what)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			known := make([]string, 0, len(fields))
			for name := range fields {
				known = append(known, name)
			}
			sort.Strings(known)
			p.errf(k, "unknown attribute %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
			continue
		}
		f(k, v)
	}
}

func (p *configParser) scalar(n *yaml.Node, what string) string {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return ""
		}
		return n.Value
	}
	p.errf(n, "%s must be a single value", what)
	return ""
}

func (p *configParser) boolean(n *yaml.Node, what string) bool {
	switch strings.ToLower(p.scalar(n, what)) {
	case "true", "yes", "on", "1":
		return true
	case "false", "no", "off", "0", "":
		return false
	}
	p.errf(n, "%s must be true or false, not %q", what, n.Value)
	return false
}

func (p *configParser) preamble(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "python_preamble must be a list of '- import: MODULE' entries")
		return
	}
	for _, e := range n.Content {
		imp := Import{Line: e.Line}
		p.mapping(e, "a python_preamble entry", map[string]func(k, v *yaml.Node){
			"import": func(_, v *yaml.Node) { imp.Module = p.scalar(v, "import") },
			"as":     func(_, v *yaml.Node) { imp.As = p.scalar(v, "as") },
		})
		if imp.Module == "" {
			p.errf(e, "a python_preamble entry needs import: MODULE")
			continue
		}
		name := imp.As
		if name == "" {
			name = imp.Module[strings.LastIndexByte(imp.Module, '.')+1:]
		}
		p.cfg.aliases[name] = imp.Module
		p.cfg.Preamble = append(p.cfg.Preamble, imp)
	}
}

func (p *configParser) transformer(n *yaml.Node) *Transformer {
	t := &Transformer{Line: n.Line}
	var opts *yaml.Node
	var props *yaml.Node
	var connNode *yaml.Node
	p.mapping(n, "a transformer", map[string]func(k, v *yaml.Node){
		"kind":  func(_, v *yaml.Node) { t.Kind = p.scalar(v, "kind") },
		"model": func(_, v *yaml.Node) { t.Model = p.scalar(v, "model") },
		"name":  func(_, v *yaml.Node) { t.Name = p.scalar(v, "name") },
		"connector": func(_, v *yaml.Node) {
			t.Connector = p.scalar(v, "connector")
			connNode = v
		},
		"connector_options":   func(_, v *yaml.Node) { opts = v },
		"use_model_on_export": func(_, v *yaml.Node) { t.UseModelOnExport = p.boolean(v, "use_model_on_export") },
		"property_map":        func(_, v *yaml.Node) { props = v },
		"sort_key_from_entity": func(k, v *yaml.Node) {
			p.hook(k, v)
		},
		"post_import_function": func(k, v *yaml.Node) { p.hook(k, v) },
		"post_export_function": func(k, v *yaml.Node) { p.hook(k, v) },
	})
	switch {
	case t.Kind == "" && t.Model == "":
		p.errf(n, "Neither kind nor model specified for transformer.")
	case t.Kind != "" && t.Model != "":
		p.errf(n, "Both kind and model specified for transformer.")
	case t.Model != "":
		// A model class names its kind by its class name unless it
		// overrides kind(); we cannot import it, so take the class name.
		t.Kind = t.Model[strings.LastIndexByte(t.Model, '.')+1:]
	case t.UseModelOnExport:
		p.errf(n, "No model class specified but use_model_on_export is true.")
	}
	if t.Name == "" {
		t.Name = t.Kind
	}
	switch {
	case t.Connector == "":
		p.errf(n, "No connector specified.")
	case t.Connector != "csv" && t.Connector != "simplexml" && t.Connector != "simpletext":
		p.errf(connNode, "Invalid connector specified for name=%s. Must be either a built in connector (\"csv\", \"simplexml\", \"simpletext\"); factory methods in Python modules cannot be run.", t.Name)
	default:
		t.Options = p.connectorOptions(t.Connector, opts)
	}
	seen := map[string]bool{}
	if props != nil && !(props.Kind == yaml.ScalarNode && props.Tag == "!!null") {
		if props.Kind != yaml.SequenceNode {
			p.errf(props, "property_map must be a list")
		} else {
			for _, pn := range props.Content {
				pr := p.property(pn)
				if pr == nil {
					continue
				}
				if seen[pr.Property] {
					p.errf(pn, "Duplicate property specified for property %s in transform %s", pr.Property, t.Name)
				}
				seen[pr.Property] = true
				t.Properties = append(t.Properties, pr)
			}
		}
	}
	return t
}

// hook refuses the Python callables that take whole records or entities:
// they run arbitrary code, which has no catalogue equivalent.
func (p *configParser) hook(k, v *yaml.Node) {
	if code := strings.TrimSpace(v.Value); code != "" {
		p.errf(v, "%s: %q is Python code, which appcfg cannot run; remove %s (or do the work in a transform of the catalogue)", k.Value, code, k.Value)
	}
}

func (p *configParser) property(n *yaml.Node) *Property {
	pr := &Property{Line: n.Line}
	var export *yaml.Node
	p.mapping(n, "a property_map entry", map[string]func(k, v *yaml.Node){
		"property":         func(_, v *yaml.Node) { pr.Property = p.scalar(v, "property") },
		"external_name":    func(_, v *yaml.Node) { pr.ExternalName = p.scalar(v, "external_name") },
		"import_template":  func(_, v *yaml.Node) { pr.ImportTemplate = p.scalar(v, "import_template") },
		"import_transform": func(k, v *yaml.Node) { pr.ImportTransform = p.transform(k, v) },
		"export_transform": func(k, v *yaml.Node) { pr.ExportTransform = p.transform(k, v) },
		"default_value": func(_, v *yaml.Node) {
			s := p.scalar(v, "default_value")
			pr.DefaultValue = &s
		},
		"export": func(_, v *yaml.Node) { export = v },
	})
	if pr.Property == "" {
		p.errf(n, "a property_map entry needs property: NAME")
		return nil
	}
	if export != nil {
		if export.Kind != yaml.SequenceNode {
			p.errf(export, "export must be a list of external_name/export_transform entries")
		} else {
			for _, en := range export.Content {
				var col ExportColumn
				p.mapping(en, "an export entry", map[string]func(k, v *yaml.Node){
					"external_name":    func(_, v *yaml.Node) { col.ExternalName = p.scalar(v, "external_name") },
					"export_transform": func(k, v *yaml.Node) { col.Transform = p.transform(k, v) },
				})
				if col.ExternalName == "" {
					p.errf(en, "an export entry needs external_name")
				}
				pr.Export = append(pr.Export, col)
			}
		}
	}
	if pr.ExternalName == "" && pr.ImportTemplate == "" && len(pr.Export) == 0 {
		p.errf(n, "Neither external_name nor import_template nor export specified for property %s.", pr.Property)
	}
	if pr.ImportTemplate != "" {
		if _, err := pyFormat(pr.ImportTemplate, nil, true); err != nil {
			p.errf(n, "import_template %q: %v", pr.ImportTemplate, err)
		}
	}
	return pr
}

// transform resolves a transform expression against the catalogue.
func (p *configParser) transform(k, v *yaml.Node) *transformFn {
	code := strings.TrimSpace(p.scalar(v, k.Value))
	if code == "" {
		return nil
	}
	fn, err := p.cfg.resolve(code)
	if err != nil {
		p.errf(v, "Invalid code for %s. Code: %q. Details: %v. Supported names: %s", k.Value, code, err, catalogueNames())
		return nil
	}
	for _, w := range fn.warnings {
		p.warnf(v, "%s: %s", k.Value, w)
	}
	return &transformFn{expr: code, fn: fn}
}

// resolve evaluates a transform expression to a callable.
func (c *Config) resolve(code string) (fnValue, error) {
	n, err := parseExpr(code)
	if err != nil {
		return fnValue{}, err
	}
	v, err := c.eval(n)
	if err != nil {
		return fnValue{}, err
	}
	fn, ok := v.(fnValue)
	if !ok {
		return fnValue{}, fmt.Errorf("it did not return a callable")
	}
	return fn, nil
}

func (c *Config) eval(n node) (any, error) {
	switch x := n.(type) {
	case strNode:
		return x.s, nil
	case intNode:
		return x.v, nil
	case floatNode:
		return x.v, nil
	case constNode:
		return x.v, nil
	case tupleNode:
		out := make([]any, len(x.elems))
		for i, e := range x.elems {
			v, err := c.eval(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case nameNode:
		return c.lookup(x.parts)
	case orNode:
		l, err := c.eval(x.l)
		if err != nil {
			return nil, err
		}
		r, err := c.eval(x.r)
		if err != nil {
			return nil, err
		}
		li, lok := l.(int64)
		ri, rok := r.(int64)
		if !lok || !rok {
			return nil, fmt.Errorf("%s: | joins integers only (re's flags: re.I | re.M)", x)
		}
		return li | ri, nil
	case callNode:
		f, err := c.eval(x.fn)
		if err != nil {
			return nil, err
		}
		fn, ok := f.(fnValue)
		if !ok {
			return nil, fmt.Errorf("%s is not callable", x.fn)
		}
		args := make([]any, len(x.args))
		for i, a := range x.args {
			if args[i], err = c.eval(a); err != nil {
				return nil, err
			}
		}
		kw := map[string]any{}
		for k, a := range x.kwargs {
			if kw[k], err = c.eval(a); err != nil {
				return nil, err
			}
		}
		v, err := fn.call(nil, args, kw)
		if made, ok := v.(fnValue); ok && err == nil {
			// A transform made from others keeps their warnings.
			for _, k := range slices.Sorted(maps.Keys(kw)) {
				args = append(args, kw[k])
			}
			for _, a := range args {
				if in, ok := a.(fnValue); ok {
					made.warnings = append(made.warnings, in.warnings...)
				}
			}
			v = made
		}
		return v, err
	}
	return nil, fmt.Errorf("unsupported expression %s", n)
}

// lookup resolves a dotted name: its first part through the preamble's
// imports (or as a builtin or a catalogue module), the rest inside it.
func (c *Config) lookup(parts []string) (any, error) {
	first := parts[0]
	module := first
	if m, ok := c.aliases[first]; ok {
		module = m
		if canon, ok := moduleNames[m]; ok {
			module = canon
		}
	}
	name := strings.Join(append([]string{module}, parts[1:]...), ".")
	if v, ok := catalogue()[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("%s is not in the catalogue of transforms (Python code is not run)", strings.Join(parts, "."))
}

func (p *configParser) connectorOptions(connector string, n *yaml.Node) ConnectorOptions {
	o := ConnectorOptions{Encoding: "utf-8", FromHeader: true, Style: "element_centric", Mode: "text"}
	o.ImportOptions = CSVDialect{Delimiter: ',', LineTerminator: "\r\n"}
	o.ExportOptions = o.ImportOptions
	var skipHeader, printHeader *bool
	var columns string
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		n = &yaml.Node{Kind: yaml.MappingNode}
	}
	str := func(dst *string) func(k, v *yaml.Node) {
		return func(k, v *yaml.Node) { *dst = p.scalar(v, k.Value) }
	}
	fields := map[string]func(k, v *yaml.Node){}
	switch connector {
	case "csv":
		fields["encoding"] = str(&o.Encoding)
		fields["columns"] = str(&columns)
		fields["column_list"] = func(_, v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				p.errf(v, "column_list must be a list of column names")
				return
			}
			for _, c := range v.Content {
				o.ColumnList = append(o.ColumnList, p.scalar(c, "a column name"))
			}
		}
		fields["skip_import_header_row"] = func(k, v *yaml.Node) { b := p.boolean(v, k.Value); skipHeader = &b }
		fields["print_export_header_row"] = func(k, v *yaml.Node) { b := p.boolean(v, k.Value); printHeader = &b }
		fields["import_options"] = func(_, v *yaml.Node) { o.ImportOptions = p.dialect(v, o.ImportOptions) }
		fields["export_options"] = func(_, v *yaml.Node) { o.ExportOptions = p.dialect(v, o.ExportOptions) }
	case "simplexml":
		fields["xpath_to_nodes"] = str(&o.XPathToNodes)
		fields["style"] = str(&o.Style)
	case "simpletext":
		fields["template"] = str(&o.Template)
		fields["prolog"] = str(&o.Prolog)
		fields["epilog"] = str(&o.Epilog)
		fields["mode"] = str(&o.Mode)
	}
	p.mapping(n, connector+" connector_options", fields)
	switch connector {
	case "csv":
		if _, err := newDecoder(o.Encoding); err != nil {
			p.errf(n, "%v", err)
		}
		switch {
		case len(o.ColumnList) > 0:
			o.FromHeader = false
		case columns == "" || columns == "from_header":
		default:
			p.errf(n, "CSV columns must be \"from_header\", or a column_list must be specified.")
		}
		o.SkipImportHeaderRow = o.FromHeader
		o.PrintExportHeaderRow = o.FromHeader
		if skipHeader != nil {
			if o.FromHeader && !*skipHeader {
				p.errf(n, "When CSV columns are \"from_header\", the header row must always be skipped.")
			}
			o.SkipImportHeaderRow = *skipHeader
		}
		if printHeader != nil {
			o.PrintExportHeaderRow = *printHeader
		}
	case "simplexml":
		if !regexp.MustCompile(`^(/[a-zA-Z][a-zA-Z0-9]*)+$`).MatchString(o.XPathToNodes) {
			p.errf(n, "simplexml: xpath_to_nodes must be a simple path like /root/to/node, not %q", o.XPathToNodes)
		}
		if o.Style != "element_centric" && o.Style != "attribute_centric" {
			p.errf(n, "simplexml: style must be element_centric or attribute_centric, not %q", o.Style)
		}
	case "simpletext":
		if o.Template == "" {
			p.errf(n, "simpletext: template is required")
		} else if _, err := pyFormat(o.Template, nil, true); err != nil {
			p.errf(n, "simpletext template %q: %v", o.Template, err)
		}
		if o.Mode != "text" && o.Mode != "nonewline" && o.Mode != "binary" {
			p.errf(n, "simpletext: mode must be text, nonewline or binary, not %q", o.Mode)
		}
	}
	return o
}

// dialect reads Python csv keyword options.
func (p *configParser) dialect(n *yaml.Node, d CSVDialect) CSVDialect {
	p.mapping(n, "csv options", map[string]func(k, v *yaml.Node){
		"dialect": func(k, v *yaml.Node) {
			switch p.scalar(v, k.Value) {
			case "excel":
				d.Delimiter = ','
			case "excel-tab", "excel_tab":
				d.Delimiter = '\t'
			case "unix":
				d.Delimiter, d.LineTerminator = ',', "\n"
			default:
				p.errf(v, "csv dialect %q is not one of excel, excel-tab, unix", v.Value)
			}
		},
		"delimiter": func(k, v *yaml.Node) {
			s := p.scalar(v, k.Value)
			s = strings.ReplaceAll(s, `\t`, "\t")
			if r := []rune(s); len(r) == 1 && r[0] != '"' && r[0] != '\r' && r[0] != '\n' {
				d.Delimiter = r[0]
			} else {
				p.errf(v, "delimiter must be one character other than a quote or newline, not %q", s)
			}
		},
		"quotechar": func(k, v *yaml.Node) {
			if s := p.scalar(v, k.Value); s != `"` {
				p.errf(v, "quotechar %q is not supported: only '\"'", s)
			}
		},
		"doublequote": func(k, v *yaml.Node) {
			if !p.boolean(v, k.Value) {
				p.errf(v, "doublequote: false is not supported")
			}
		},
		"skipinitialspace": func(k, v *yaml.Node) { d.SkipInitialSpace = p.boolean(v, k.Value) },
		"lineterminator": func(k, v *yaml.Node) {
			s := strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(p.scalar(v, k.Value))
			if s != "\r\n" && s != "\n" {
				p.errf(v, `lineterminator must be "\r\n" or "\n"`)
			}
			d.LineTerminator = s
		},
		"quoting": func(k, v *yaml.Node) {
			if s := p.scalar(v, k.Value); s != "0" && s != "csv.QUOTE_MINIMAL" && s != "QUOTE_MINIMAL" {
				p.errf(v, "quoting %q is not supported: only QUOTE_MINIMAL", s)
			}
		},
	})
	return d
}

// Transformer returns the transformer for kind, or when kind is "" the only
// one.
func (c *Config) Transformer(kind string) (*Transformer, error) {
	var names []string
	for _, t := range c.Transformers {
		if t.Kind == kind || (kind == "" && len(c.Transformers) == 1) {
			return t, nil
		}
		names = append(names, t.Kind)
	}
	if kind == "" {
		return nil, fmt.Errorf("%s has %d transformers (%s): give --kind", c.File, len(c.Transformers), strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("%s has no transformer for kind %s (it has %s)", c.File, kind, strings.Join(names, ", "))
}

// pyFormat expands a Python "%(name)s" template. With check, it only
// validates the template (record is ignored).
func pyFormat(tmpl string, record map[string]string, check bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(tmpl) && tmpl[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if i+1 >= len(tmpl) || tmpl[i+1] != '(' {
			return "", fmt.Errorf("only %%(name)s placeholders are supported (at offset %d)", i)
		}
		end := strings.IndexByte(tmpl[i:], ')')
		if end < 0 || i+end+1 >= len(tmpl) || !strings.ContainsRune("sdr", rune(tmpl[i+end+1])) {
			return "", fmt.Errorf("placeholder at offset %d must look like %%(name)s", i)
		}
		name := tmpl[i+2 : i+end]
		i += end + 1
		if check {
			continue
		}
		v, ok := record[name]
		if !ok {
			return "", fmt.Errorf("the record has no field %s", name)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
