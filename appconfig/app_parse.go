package appconfig

import (
	"fmt"

	"github.com/appcfg/appcfg/internal/redact"
	"github.com/appcfg/appcfg/internal/yaml11"
	"gopkg.in/yaml.v3"
)

// MaxURLMaps is the SDK's limit on handlers, after includes are merged.
const MaxURLMaps = 100

// ParseApp parses one app.yaml (or service yaml) file as the SDK's
// appinfo.LoadSingleAppInfo does, without following includes or builtins
// (LoadApp does that). It reports every problem rather than the first; the
// App is nil when the file is empty, is not YAML, or is a list of mappings.
func ParseApp(path string, data []byte) (*App, []Problem) {
	r := &yaml11.Report{File: path}
	app := parseAppReport(data, r)
	if app != nil {
		app.Path = path
	}
	r.Sort()
	return app, r.Problems
}

func parseAppReport(data []byte, r *yaml11.Report) *App {
	root := yaml11.ParseDocument(data, r)
	if root == nil {
		if !r.HasErrors() {
			r.Errorf(Pos{Line: 1, Column: 1}, "", "the configuration file is empty").
				Hint = "an app.yaml needs at least a runtime: line"
		}
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return notAMapping(root, r)
	}
	app := &App{}
	softenQuotedBools(root, r)
	checkEmptyBuiltins(root, r)
	rest, regexNodes := splitRegexKeys(root, "skip_files", "nobuild_files")
	yaml11.DecodePy(rest, app, "", r)
	c := checker{r: r}
	if n, ok := regexNodes["skip_files"]; ok {
		addMeta(&app.Meta, "skip_files", n)
		app.SkipFiles, app.SkipFilesPos = c.regexStr(n[1], "skip_files")
	}
	if n, ok := regexNodes["nobuild_files"]; ok {
		addMeta(&app.Meta, "nobuild_files", n)
		app.NobuildFiles, _ = c.regexStr(n[1], "nobuild_files")
	}
	warnCoercions(root, r)
	c.app(app)
	return app
}

// boolKeys are the schema's boolean attributes; no other attribute shares
// their names.
var boolKeys = map[string]bool{
	"threadsafe": true, "vm": true, "code_lock": true, "standard_websocket": true, "app_engine_apis": true,
	"application_readable": true, "require_matching_file": true, "enable_health_check": true,
	"session_affinity": true, "trace_sampling": true, "public": true, "dynamic": true, "failfast": true,
}

// freeMaps hold user-chosen names, which are never attributes.
var freeMaps = map[string]bool{
	"env_variables": true, "build_env_variables": true, "vm_settings": true, "beta_settings": true,
	"runtime_config": true, "http_headers": true,
}

// softenQuotedBools accepts a quoted YAML boolean that reads as true
// (threadsafe: "true"): the SDK converts with Python's bool(), which gives
// True for any non-empty string, so such a value means what it says. It is
// rewritten to a plain true with a warning. A quoted false-looking string
// stays an error for the decoder to report, since the SDK would silently
// read it as True.
func softenQuotedBools(n *yaml.Node, r *yaml11.Report) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if freeMaps[k.Value] {
				continue
			}
			if boolKeys[k.Value] && v.Kind == yaml.ScalarNode && v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				if s := yaml11.ResolveText(v.Value); s.Kind == yaml11.Bool && s.Bool {
					r.Warnf(yaml11.NodePos(v), k.Value, "%s: the quoted '%s' is a string, which the SDK reads as true", k.Value, v.Value).
						Hint = "write the boolean without quotes"
					v.Style, v.Value, v.Tag = 0, "true", ""
				}
			}
			softenQuotedBools(v, r)
		}
		return
	}
	for _, c := range n.Content {
		softenQuotedBools(c, r)
	}
}

// checkEmptyBuiltins reports a builtin whose value is an empty string
// (remote_api: ”), which the decoded map cannot tell from a null one: the
// SDK skips a null builtin but refuses an empty one.
func checkEmptyBuiltins(root *yaml.Node, r *yaml11.Report) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "builtins" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for j, item := range root.Content[i+1].Content {
			if item.Kind != yaml.MappingNode {
				continue
			}
			for k := 0; k+1 < len(item.Content); k += 2 {
				name, v := item.Content[k], item.Content[k+1]
				if s := yaml11.Resolve(v); v.Kind == yaml.ScalarNode && s.Kind != yaml11.Null && s.PyStr() == "" {
					r.Errorf(yaml11.NodePos(v), fmt.Sprintf("builtins[%d].%s", j, name.Value),
						"Value '' for %s not in %s.", name.Value, optOnOff.shown).Hint = "use on or off"
				}
			}
		}
	}
}

// warnCoercions warns where YAML 1.1 turned an unquoted identifier into
// something else: `version: 1.10` is the float 1.1, so the SDK sees "1.1".
func warnCoercions(root *yaml.Node, r *yaml11.Report) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version", "application", "project", "service", "module", "runtime", "api_version":
		default:
			continue
		}
		if v.Kind != yaml.ScalarNode {
			continue
		}
		s := yaml11.Resolve(v)
		if s.Kind == yaml11.Null || s.Kind == yaml11.String || s.PyStr() == v.Value {
			continue
		}
		r.Warnf(yaml11.NodePos(v), k.Value, "%s: %s is read as YAML %s and becomes \"%s\"", k.Value, v.Value, s.Kind, s.PyStr()).
			Hint = fmt.Sprintf("quote it (%s: \"%s\") if you meant the text as written", k.Value, v.Value)
	}
}

// notAMapping handles a document that is a scalar or a list. The SDK's
// builder only validates mappings, so a scalar or a list of scalars loads
// as an empty configuration (and passes); a list holding mappings fails.
func notAMapping(root *yaml.Node, r *yaml11.Report) *App {
	for _, item := range root.Content {
		if item.Kind != yaml.ScalarNode {
			r.Errorf(yaml11.NodePos(item), "", "the file should be a mapping of keys to values, not a list of %s", nodeKind(item)).
				Hint = "an app.yaml is a list of `key: value` lines such as `runtime: python27`"
			return nil
		}
	}
	r.Warnf(yaml11.NodePos(root), "", "the file is %s, not a mapping of keys to values, so it configures nothing", nodeKind(root)).
		Hint = "an app.yaml is a list of `key: value` lines such as `runtime: python27`"
	return &App{Meta: Meta{Pos: yaml11.NodePos(root)}}
}

// splitRegexKeys returns a copy of the mapping without the given keys, whose
// RegexStr values (a string or a list of strings) the generic decoder cannot
// take, and the key/value nodes it removed.
func splitRegexKeys(m *yaml.Node, keys ...string) (*yaml.Node, map[string][2]*yaml.Node) {
	out := *m
	out.Content = nil
	found := map[string][2]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		take := false
		for _, key := range keys {
			if k.Kind == yaml.ScalarNode && k.Value == key {
				take = true
				if _, dup := found[key]; !dup {
					found[key] = [2]*yaml.Node{k, m.Content[i+1]}
				}
			}
		}
		if !take {
			out.Content = append(out.Content, k, m.Content[i+1])
		}
	}
	return &out, found
}

func addMeta(m *Meta, key string, kv [2]*yaml.Node) {
	if m.ValPos == nil {
		m.ValPos, m.KeyPos, m.Nulls = map[string]Pos{}, map[string]Pos{}, map[string]bool{}
	}
	m.Keys = append(m.Keys, key)
	m.KeyPos[key] = yaml11.NodePos(kv[0])
	m.ValPos[key] = yaml11.NodePos(kv[1])
	if kv[1].Kind == yaml.ScalarNode && yaml11.Resolve(kv[1]).Kind == yaml11.Null {
		m.Nulls[key] = true
	}
}

// nodeKind names what a node is, for messages about misplaced values.
func nodeKind(n *yaml.Node) string {
	return map[yaml.Kind]string{
		yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.AliasNode: "an alias",
	}[n.Kind] + scalarText(n)
}

func scalarText(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	// A short excerpt at most, and nothing of a credential: the file may
	// be anything an include names, such as a private key.
	return "the value " + redact.Quote(n.Value)
}
