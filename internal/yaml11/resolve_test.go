package yaml11

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
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

// ruamel's YAML 1.1 resolvers for null, bool and int, which isNull, isBool
// and isInt match by hand.
var (
	ruamelNull = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	ruamelBool = regexp.MustCompile(`^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	ruamelInt  = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+` +
		`|[-+]?0?[0-7_]+` +
		`|[-+]?(?:0|[1-9][0-9_]*)` +
		`|[-+]?0x[0-9a-fA-F_]+` +
		`|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
)

// eachString calls f with every string of up to max characters of alphabet.
func eachString(alphabet string, max int, f func(string)) {
	var rec func(prefix []byte)
	rec = func(prefix []byte) {
		f(string(prefix))
		if len(prefix) == max {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			rec(append(prefix, alphabet[i]))
		}
	}
	rec(make([]byte, 0, max))
}

func TestIntMatchesRuamel(t *testing.T) {
	n := 0
	eachString("-+01789_:bxaF", 5, func(s string) {
		n++
		if got, want := isInt(s), ruamelInt.MatchString(s); got != want {
			t.Errorf("isInt(%q) = %v, ruamel's expression says %v", s, got, want)
		}
	})
	for _, s := range []string{"1:59", "1:60", "190:20:30", "-1_000:05", "0x_fF", "+0b1", "0o7", "1:5:", "12:3:45:6"} {
		if got, want := isInt(s), ruamelInt.MatchString(s); got != want {
			t.Errorf("isInt(%q) = %v, ruamel's expression says %v", s, got, want)
		}
	}
	if n < 400_000 {
		t.Fatalf("checked %d strings", n)
	}
}

func TestNullAndBoolMatchRuamel(t *testing.T) {
	words := []string{"", "~", "~~", "null", "Null", "NULL", "nULL", "nul", "nulls", "None",
		"y", "Y", "yes", "Yes", "YES", "yEs", "n", "N", "no", "No", "NO", "nO",
		"true", "True", "TRUE", "tRUE", "false", "False", "FALSE", "on", "On", "ON", "oN",
		"off", "Off", "OFF", "oFF", "1", "0", " true", "true "}
	for _, w := range words {
		if got, want := isNull(w), ruamelNull.MatchString(w); got != want {
			t.Errorf("isNull(%q) = %v, ruamel's expression says %v", w, got, want)
		}
		if got, want := isBool(w), ruamelBool.MatchString(w); got != want {
			t.Errorf("isBool(%q) = %v, ruamel's expression says %v", w, got, want)
		}
	}
	eachString("nNoOyYeEsSfFtTrRuU~l", 3, func(s string) {
		if got, want := isNull(s), ruamelNull.MatchString(s); got != want {
			t.Errorf("isNull(%q) = %v, ruamel's expression says %v", s, got, want)
		}
		if got, want := isBool(s), ruamelBool.MatchString(s); got != want {
			t.Errorf("isBool(%q) = %v, ruamel's expression says %v", s, got, want)
		}
	})
}

// A scalar that mayBeNumber turns away matches neither the float nor the
// timestamp expression.
func TestMayBeNumberKeepsEveryFloatAndTimestamp(t *testing.T) {
	eachString("-+.09_:eEinfNaTtZ xmd", 4, func(s string) {
		if mayBeNumber(s) {
			return
		}
		if reFloat.MatchString(s) || reTimestamp.MatchString(s) {
			t.Errorf("mayBeNumber(%q) = false, but it is a float or a timestamp", s)
		}
	})
}

// Resolving app.yaml's kind of scalars compiles no regular expression
// (compiling ruamel's resolvers cost about 0.7 ms of every command that
// reads an app.yaml). The first resolution in a fresh process is counted,
// so that no other test has compiled the expressions already.
func TestResolveCommonScalarsCompilesNothing(t *testing.T) {
	scalars := []string{"python27", "main.app", "/static", "static", "1", "true", "~", "F1", "automatic", "/.*", "10m"}
	if os.Getenv("YAML11_FIRST_RESOLVE") == "1" {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, s := range scalars {
			ResolveText(s)
		}
		runtime.ReadMemStats(&after)
		// "1" is an int: parseInt's big.Int is a few allocations; compiling
		// one of the expressions is hundreds.
		if n := after.Mallocs - before.Mallocs; n > 20 {
			t.Errorf("the first resolution of %d common scalars made %d allocations, want at most 20", len(scalars), n)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestResolveCommonScalarsCompilesNothing$", "-test.count=1")
	cmd.Env = append(os.Environ(), "YAML11_FIRST_RESOLVE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in a fresh process: %v\n%s", err, out)
	}
}
