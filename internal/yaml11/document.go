package yaml11

import (
	"bytes"
	"errors"
	"github.com/appcfg/appcfg/internal/lazyre"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseDocument parses data as a configuration file of exactly one YAML
// document. It returns the document's top node, or nil when the file is
// empty (only comments or whitespace) or cannot be parsed; syntax errors,
// extra documents, anchors, aliases and repeated keys go to r.
func ParseDocument(data []byte, r *Report) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			pos, msg := syntaxError(err)
			r.Errorf(pos, "", "%s", msg).Hint = "fix the YAML syntax; indent with spaces, not tabs"
			return nil
		}
		docs = append(docs, &doc)
	}
	if len(docs) == 0 {
		return nil
	}
	if len(docs) > 1 {
		second := docs[1]
		r.Errorf(Pos{second.Line, second.Column}, "",
			"the file holds %d YAML documents; a configuration file must hold exactly one", len(docs)).
			Hint = "remove the '---' document separators after the first document"
	}
	root := docs[0]
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	checkNodes(root, r)
	if root.Kind == yaml.ScalarNode && Resolve(root).Kind == Null {
		return nil
	}
	return root
}

// checkNodes reports the YAML features the SDK refuses: anchors, aliases,
// and a key repeated within one mapping.
func checkNodes(n *yaml.Node, r *Report) {
	if n.Anchor != "" {
		r.Errorf(Pos{n.Line, n.Column}, "", "anchors (&%s) are not supported in App Engine configuration files", n.Anchor).
			Hint = "write the value out in full"
	}
	if n.Kind == yaml.AliasNode {
		r.Errorf(Pos{n.Line, n.Column}, "", "references (*%s) are not supported in App Engine configuration files", n.Value).
			Hint = "write the value out in full"
		return
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				if seen[k.Value] {
					r.Errorf(Pos{k.Line, k.Column}, k.Value, "Duplicate attribute '%s'.", k.Value).
						Hint = "a key may appear only once in a mapping; remove or merge the repeated one"
				}
				seen[k.Value] = true
			}
		}
	}
	for _, c := range n.Content {
		checkNodes(c, r)
	}
}

var reYAMLLine = lazyre.New(`^yaml: line (\d+): (.*)$`)

// syntaxError extracts the position yaml.v3 puts in its message text.
func syntaxError(err error) (Pos, string) {
	msg := strings.TrimSpace(err.Error())
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := reYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Pos{Line: line, Column: 1}, "invalid YAML: " + m[2]
	}
	return Pos{Line: 1, Column: 1}, "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")
}

// NodePos is the position of n.
func NodePos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }
