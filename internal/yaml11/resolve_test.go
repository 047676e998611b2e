package yaml11

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// The expectations are what str() of ruamel.yaml's YAML 1.1 SafeLoader result
// gives, as the SDK sees it (checked against the SDK's bundled ruamel).
func TestPyStrMatchesRuamel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.10", "1.1"}, {"012", "10"}, {"1:30", "90"}, {"yes", "True"}, {"Y", "True"},
		{"n", "False"}, {"on", "True"}, {"OFF", "False"}, {"1e3", "1000.0"}, {"1.5e3", "1500.0"},
		{"0.0001", "0.0001"}, {"1e-5", "1e-05"}, {"1e16", "1e+16"},
		{"123456789012345678", "123456789012345678"}, {".5", "0.5"}, {"0x1F", "31"},
		{"0b101", "5"}, {"1_000", "1000"}, {"+12", "12"}, {"-0", "0"}, {"007", "7"}, {"08", "08"},
		{"2012-01-05", "2012-01-05"}, {"2012-1-5", "2012-1-5"},
		{"2012-01-05T10:20:30Z", "2012-01-05 10:20:30"}, {"10:20:30.5", "37230.5"},
		{"~", "None"}, {"null", "None"}, {`"yes"`, "yes"}, {"abc", "abc"}, {"1.0", "1.0"},
		{"3.14159", "3.14159"}, {"-1.5", "-1.5"}, {".inf", "inf"}, {".NaN", "nan"},
		{"1:2:3.5", "3723.5"}, {"0.1", "0.1"}, {"100000000000000000000.0", "1e+20"},
		{"1e400", "inf"}, {"9", "9"}, {"1.", "1.0"}, {"1.e5", "100000.0"},
		{"'1.10'", "1.1" + "0"}, {"!!str 1.10", "1.10"}, {"!!float 3", "3.0"},
	}
	for _, tt := range tests {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte("k: "+tt.in), &n); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if got := Resolve(n.Content[0].Content[1]).PyStr(); got != tt.want {
			t.Errorf("PyStr(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
