package appconfig

import "gopkg.in/yaml.v3"

// DOSInfo is dos.yaml: addresses the application refuses to serve.
type DOSInfo struct {
	Meta        Meta              `yaml:"-"`
	Application string            `yaml:"application,omitempty"`
	Blacklist   []*BlacklistEntry `yaml:"blacklist,omitempty"`
}

// BlacklistEntry blocks one IPv4 or IPv6 address or subnet (CIDR).
type BlacklistEntry struct {
	Meta        Meta   `yaml:"-"`
	Subnet      string `yaml:"subnet"`
	Description string `yaml:"description,omitempty"`
}

func (*DOSInfo) SDKName() string        { return "DosInfoExternal" }
func (*BlacklistEntry) SDKName() string { return "BlacklistEntry" }

// ParseDOS reads dos.yaml. A file with no YAML document means no entries,
// as in the SDK. Problems are the file's YAML and type errors; rules on
// values are checked by the validate package.
func ParseDOS(path string, data []byte) (*DOSInfo, []Problem) {
	info := &DOSInfo{}
	c := parseCompanion(path, data, info, "blacklist")
	if c.root == nil {
		return orNil(info, c.r), c.r.Problems
	}
	eachItem(c.root, "blacklist", info.Blacklist, func(n *yaml.Node, e *BlacklistEntry) { c.stringType(n, "subnet", &e.Meta) })
	return info, c.r.Problems
}
