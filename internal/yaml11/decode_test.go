package yaml11

import (
	"strings"
	"testing"
)

type handler struct {
	Meta   Meta   `yaml:"-"`
	URL    string `yaml:"url"`
	Script string `yaml:"script"`
}

type conf struct {
	Meta       Meta              `yaml:"-"`
	Version    string            `yaml:"version"`
	Threadsafe *bool             `yaml:"threadsafe"`
	Instances  int               `yaml:"instances"`
	CPU        float64           `yaml:"cpu"`
	Handlers   []handler         `yaml:"handlers"`
	Env        map[string]string `yaml:"env_variables"`
	Tags       []string          `yaml:"tags"`
}

func (*conf) SDKName() string { return "AppInfoExternal" }

func decodeString(t *testing.T, src string) (*conf, *Report) {
	t.Helper()
	r := &Report{File: "app.yaml"}
	var c conf
	if n := ParseDocument([]byte(src), r); n != nil {
		Decode(n, &c, "", r)
	}
	return &c, r
}

func TestDecodeValues(t *testing.T) {
	c, r := decodeString(t, "version: 1.10\nthreadsafe: yes\ninstances: '3'\ncpu: 2\n"+
		"handlers:\n- url: /\n  script: main.app\nenv_variables:\n  A: 012\n  B: on\n")
	if len(r.Problems) != 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	if c.Version != "1.1" || c.Threadsafe == nil || !*c.Threadsafe || c.Instances != 3 || c.CPU != 2 {
		t.Errorf("decoded %+v", c)
	}
	if c.Env["A"] != "10" || c.Env["B"] != "True" {
		t.Errorf("env_variables = %v, want Python str() of YAML 1.1 values", c.Env)
	}
	h := c.Handlers[0]
	if h.URL != "/" || h.Meta.Path != "handlers[0]" || h.Meta.At("script") != (Pos{7, 11}) {
		t.Errorf("handler %+v at %+v", h, h.Meta.At("script"))
	}
	if !c.Meta.Has("threadsafe") || c.Meta.Has("cpux") || c.Meta.KeyAt("cpu") != (Pos{4, 1}) {
		t.Errorf("meta %+v", c.Meta)
	}
}

// Every problem of a file is reported, each at its own position.
func TestDecodeReportsAllProblems(t *testing.T) {
	_, r := decodeString(t, strings.Join([]string{
		"pagespeed: on",         // 1 unknown key
		"threadsafe: 'false'",   // 2 quoted bool
		"instances: many",       // 3 not an int
		"tags: one",             // 4 not a list
		"handlers:",             // 5
		"- url: /",              // 6
		"  scrpt: main.app",     // 7 unknown key in a list item
		"env_variables: [a, b]", // 8 not a mapping
		"version: 1",            // 9
		"version: 2",            // 10 duplicate
		"cpu: {a: 1}",           // 11 not a scalar
	}, "\n"))
	want := []struct {
		line int
		text string
	}{
		{1, "Unexpected attribute 'pagespeed' for object of type AppInfoExternal."},
		{2, "Value 'false' for threadsafe is not a boolean"},
		{3, "Value 'many' for instances could not be converted to type int."},
		{4, "Value 'one' for tags should be a sequence but is not."},
		{7, "Unexpected attribute 'scrpt' for object of type handler."},
		{8, "env_variables should be a mapping of names to values, not a list"},
		{10, "Duplicate attribute 'version'."},
		{11, "Value for cpu should be a single value, not a mapping"},
	}
	r.Sort()
	if len(r.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(r.Problems), len(want), r.Problems)
	}
	for i, w := range want {
		p := r.Problems[i]
		if p.Line != w.line || p.Message != w.text || p.File != "app.yaml" {
			t.Errorf("problem %d = %s, want line %d %q", i, p, w.line, w.text)
		}
	}
}

func TestParseDocument(t *testing.T) {
	tests := []struct {
		name, src string
		empty     bool
		problem   string
	}{
		{"empty", "", true, ""},
		{"comments only", "# nothing\n\n", true, ""},
		{"null document", "~\n", true, ""},
		{"two documents", "a: 1\n---\nb: 2\n", false, "holds 2 YAML documents"},
		{"anchor", "a: &x 1\nb: 2\n", false, "anchors (&x) are not supported"},
		{"alias", "a: &x 1\nb: *x\n", false, "references (*x) are not supported"},
		{"syntax", "a: [1, 2\n", true, "invalid YAML"},
		{"tab", "a:\n\tb: 1\n", true, "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{File: "f.yaml"}
			n := ParseDocument([]byte(tt.src), r)
			if (n == nil) != tt.empty {
				t.Errorf("node nil = %v, want %v", n == nil, tt.empty)
			}
			var msgs []string
			for _, p := range r.Problems {
				msgs = append(msgs, p.Message)
			}
			got := strings.Join(msgs, "\n")
			if !strings.Contains(got, tt.problem) || (tt.problem == "") != (got == "") {
				t.Errorf("problems %q, want one containing %q", got, tt.problem)
			}
		})
	}
}
