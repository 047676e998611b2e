package appconfig

import "gopkg.in/yaml.v3"

// DispatchInfo is dispatch.yaml: rules routing requests to services by URL.
type DispatchInfo struct {
	Meta        Meta             `yaml:"-"`
	Application string           `yaml:"application,omitempty"`
	Dispatch    []*DispatchEntry `yaml:"dispatch,omitempty"`
}

// DispatchEntry routes URLs matching URL (<host pattern><path pattern>, each
// may use a * wildcard) to a service. Module is the deprecated spelling of
// Service; both are kept as written, and ServiceName gives the one in force.
type DispatchEntry struct {
	Meta    Meta   `yaml:"-"`
	URL     string `yaml:"url"`
	Service string `yaml:"service,omitempty"`
	Module  string `yaml:"module,omitempty"`
}

func (*DispatchInfo) SDKName() string  { return "DispatchInfoExternal" }
func (*DispatchEntry) SDKName() string { return "DispatchEntry" }

// ServiceName is the service the rule routes to: service, else module.
func (e *DispatchEntry) ServiceName() string {
	if e.Service != "" {
		return e.Service
	}
	return e.Module
}

// ParseDispatch reads dispatch.yaml. A file with no YAML document means no
// rules, as in the SDK. Problems are the file's YAML and type errors; rules
// on values are checked by the validate package.
func ParseDispatch(path string, data []byte) (*DispatchInfo, []Problem) {
	info := &DispatchInfo{}
	c := parseCompanion(path, data, info, "dispatch")
	if c.root == nil {
		return orNil(info, c.r), c.r.Problems
	}
	eachItem(c.root, "dispatch", info.Dispatch, func(n *yaml.Node, e *DispatchEntry) { c.stringType(n, "url", &e.Meta) })
	return info, c.r.Problems
}
