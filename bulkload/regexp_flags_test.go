package bulkload

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestRegexpFlagsAsPython: the regexp transforms read a pattern and its
// flags argument (re.compile's) as Python 2.7 reads them, the Python
// appcfg.py runs the bulkloader on. The verdicts were generated once with
// python2.7 (2.7.18, PYENV_VERSION=2.7.18) from re.match (regexp_bool),
// re.search's group 1 (regexp_extract) and re.findall (regexp_to_list)
// with the same pattern, flags and a unicode value, as the bulkloader's
// connectors pass values; the rows marked "Python 3" are syntax 2.7
// refuses (scoped flags, (?a)), which loads as python3 (3.11.7) reads it.
// The rows where python3 3.11 differs are noted: before, bulkload read
// patterns as 3.11 does and refused global flags after the start, LOCALE
// (4), ASCII|UNICODE (288), (?u) with 256 and escapes such as \q.
func TestRegexpFlagsAsPython(t *testing.T) {
	for _, c := range []struct {
		fn, pattern string
		flags       int64
		in          string
		want        any
	}{
		// re.MULTILINE from the flags: $ before each newline, not taking it.
		{fn: "regexp_to_list", pattern: `\w+$`, flags: 8, in: "ab\n\ncd", want: []any{"ab", "cd"}},
		{fn: "regexp_to_list", pattern: `\w+$`, in: "ab\n\ncd", want: []any{"cd"}},
		{fn: "regexp_to_list", pattern: `^\w`, flags: 8, in: "ab\ncd", want: []any{"a", "c"}},
		{fn: "regexp_to_list", pattern: `(?m)\w+$`, in: "ab\n\ncd", want: []any{"ab", "cd"}},
		{fn: "regexp_extract", pattern: `(y)$`, flags: 8, in: "y\nz", want: "y"},
		// Global flags anywhere apply to the whole pattern (3.11 refuses them).
		{fn: "regexp_bool", pattern: `a(?i)b`, in: "aB", want: true},
		{fn: "regexp_bool", pattern: `a(?i)b`, flags: 2, in: "AB", want: true},
		{fn: "regexp_extract", pattern: `x(?i)(y)`, in: "xY", want: "Y"},
		{fn: "regexp_extract", pattern: `(?=.)(?i)x(y)`, in: "XY", want: "Y"},
		{fn: "regexp_extract", pattern: `(?=x)x(?i)(y)`, in: "xY", want: "Y"},
		{fn: "regexp_bool", pattern: `a|b(?s)`, in: "b", want: true},
		{fn: "regexp_bool", pattern: `x.(?s)`, in: "x\n", want: true},
		{fn: "regexp_to_list", pattern: `\w+$(?m)`, in: "ab\ncd", want: []any{"ab", "cd"}},
		// At the start they are the whole pattern's in both.
		{fn: "regexp_bool", pattern: `(?i)ab`, in: "AB", want: true},
		{fn: "regexp_bool", pattern: `(?i)ab`, flags: 2, in: "AB", want: true},
		{fn: "regexp_bool", pattern: `(?s)(?i)a.b`, in: "A\nB", want: true},
		{fn: "regexp_extract", pattern: `(?i)x(y)`, in: "XY", want: "Y"},
		{fn: "regexp_extract", pattern: `(?i)(?=x)x(y)`, in: "XY", want: "Y"},
		// re.IGNORECASE and re.DOTALL.
		{fn: "regexp_bool", pattern: `(?=A)a`, flags: 2, in: "A", want: true},
		{fn: "regexp_bool", pattern: `(?=a)A$`, flags: 10, in: "a\nb", want: true},
		{fn: "regexp_bool", pattern: `a.b`, flags: 16, in: "a\nb", want: true},
		{fn: "regexp_bool", pattern: `a.b`, in: "a\nb", want: false},
		// Without re.UNICODE \d \w \s \b and IGNORECASE are ASCII's (3.11
		// reads them as Unicode's); 256, 3.11's re.ASCII, is no flag in 2.7.
		{fn: "regexp_bool", pattern: `\w`, in: "\u00e9", want: false},
		{fn: "regexp_bool", pattern: `\w`, flags: 256, in: "\u00e9", want: false},
		{fn: "regexp_bool", pattern: `\w`, flags: 32, in: "\u00e9", want: true},
		{fn: "regexp_bool", pattern: `(?u)\w`, in: "\u00e9", want: true},
		{fn: "regexp_bool", pattern: `\w(?u)`, in: "\u00e9", want: true},
		{fn: "regexp_bool", pattern: `\d`, in: "\u0663", want: false},
		{fn: "regexp_bool", pattern: `\d`, flags: 32, in: "\u0663", want: true},
		{fn: "regexp_bool", pattern: `\s`, in: "\u0085", want: false},
		{fn: "regexp_bool", pattern: `a\b`, in: "a\u00e9", want: true},
		{fn: "regexp_bool", pattern: `a\b`, flags: 32, in: "a\u00e9", want: false},
		{fn: "regexp_bool", pattern: `k`, flags: 2, in: "\u212a", want: false},
		{fn: "regexp_bool", pattern: `k`, flags: 258, in: "\u212a", want: false},
		{fn: "regexp_bool", pattern: `k`, flags: 34, in: "\u212a", want: true},
		{fn: "regexp_bool", pattern: "\u00e9", flags: 2, in: "\u00c9", want: false},
		{fn: "regexp_bool", pattern: "\u00e9", flags: 34, in: "\u00c9", want: true},
		// re.UNICODE with 256 (3.11: incompatible), re.LOCALE, (?L) (3.11
		// refuses both): LOCALE is the C locale's, ASCII, over UNICODE.
		{fn: "regexp_bool", pattern: `\w`, flags: 288, in: "\u00e9", want: true},
		{fn: "regexp_bool", pattern: `(?u)\w`, flags: 256, in: "\u00e9", want: true},
		{fn: "regexp_bool", pattern: `a`, flags: 4, in: "a", want: true},
		{fn: "regexp_bool", pattern: `\w`, flags: 4, in: "\u00e9", want: false},
		{fn: "regexp_bool", pattern: `\w`, flags: 36, in: "\u00e9", want: false},
		{fn: "regexp_bool", pattern: `(?L)\w`, in: "a", want: true},
		{fn: "regexp_bool", pattern: `(?L)\w`, in: "\u00e9", want: false},
		{fn: "regexp_bool", pattern: `(?L)\w`, flags: 32, in: "\u00e9", want: false},
		{fn: "regexp_bool", pattern: `(?=x)x\w(?L)`, in: "xa", want: true},
		// re.VERBOSE (64), on the backtracking engine.
		{fn: "regexp_bool", pattern: ` a b`, flags: 64, in: "ab", want: true},
		{fn: "regexp_bool", pattern: `(?x) a b (?u)\w`, in: "ab\u00e9", want: true},
		// Escapes of letters 2.7 reads as the letter (3.11 refuses \q and
		// reads \u0041 as A).
		{fn: "regexp_bool", pattern: `\q`, in: "q", want: true},
		{fn: "regexp_bool", pattern: `[\A]`, in: "A", want: true},
		{fn: "regexp_bool", pattern: `\u0041`, in: "u0041", want: true},
		{fn: "regexp_bool", pattern: `\u0041`, in: "A", want: false},
		{fn: "regexp_extract", pattern: `(\e)`, in: "xe", want: "e"},
		{fn: "regexp_to_list", pattern: `\N{DIGIT ONE}`, in: "N{DIGIT ONE}", want: []any{"N{DIGIT ONE}"}},
		// re.TEMPLATE (1) without a repetition, and re.DEBUG (128), which
		// 2.7 compiles as without them (DEBUG prints the parse tree).
		{fn: "regexp_bool", pattern: `ab`, flags: 1, in: "ab", want: true},
		{fn: "regexp_bool", pattern: `a|b`, flags: 1, in: "b", want: true},
		{fn: "regexp_bool", pattern: `(?i)A\w`, flags: 1, in: "a\u00e9", want: false},
		{fn: "regexp_extract", pattern: `(a|ab)c`, flags: 1, in: "xabc", want: "ab"},
		{fn: "regexp_to_list", pattern: `[ab]`, flags: 1, in: "xaby", want: []any{"a", "b"}},
		{fn: "regexp_bool", pattern: `a(b)`, flags: 128, in: "ab", want: true},
		{fn: "regexp_extract", pattern: `x(y)$`, flags: 129, in: "xy\n", want: "y"},
		{fn: "regexp_to_list", pattern: `\w+`, flags: 130, in: "AB cd", want: []any{"AB", "cd"}},
		{fn: "regexp_bool", pattern: `a\w`, flags: 160, in: "a\u00e9", want: true},
		// "(?t)", re.TEMPLATE inline (2.7 and 3.11 accept it).
		{fn: "regexp_bool", pattern: `(?t)ab`, in: "ab", want: true},
		{fn: "regexp_bool", pattern: `(?it)A`, in: "a", want: true},
		{fn: "regexp_extract", pattern: `(?t)x(?=y)(y)`, in: "xy", want: "y"},
		// Scoped flags and (?a), which 2.7 refuses, load as Python 3 reads them.
		{fn: "regexp_bool", pattern: `(?-i:a)b`, flags: 2, in: "aB", want: true},   // Python 3
		{fn: "regexp_bool", pattern: `(?-i:a)b`, flags: 2, in: "AB", want: false},  // Python 3
		{fn: "regexp_bool", pattern: `(?a)k`, flags: 2, in: "\u212a", want: false}, // Python 3
	} {
		code := "transform." + c.fn + "(r'" + c.pattern + "', " + strconv.FormatInt(c.flags, 10) + ")"
		fn, err := resolveConfig().resolve(code)
		if err != nil {
			t.Errorf("%s: %v", code, err)
			continue
		}
		got, err := (&transformFn{expr: code, fn: fn}).apply(&rowState{}, c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s(%q) = %#v, %v; Python gives %#v", code, c.in, got, err, c.want)
		}
	}
}

// TestRegexpFlagNames: re's names for the flags Python 2.7 has load,
// alone or joined with "|" (python2.7's verdicts on u"\u00e9"), and a
// pattern both Pythons refuse is refused when the config loads.
func TestRegexpFlagNames(t *testing.T) {
	for code, want := range map[string]bool{
		"transform.regexp_bool(r'\\w', re.LOCALE)":          false,
		"transform.regexp_bool(r'\\w', re.L)":               false,
		"transform.regexp_bool(r'\\w', re.UNICODE)":         true,
		"transform.regexp_bool(r' \\w', re.VERBOSE)":        false,
		"transform.regexp_bool(r' \\w', re.X)":              false,
		"transform.regexp_bool(r'\\w', re.I | re.S)":        false,
		"transform.regexp_bool(r'\\w', re.U|re.S)":          true,
		"transform.regexp_bool(r'\\W', re.M | 4 | 32)":      true,
		"transform.regexp_bool(r'\\w[*]\\*a{x}', re.T)":     false,
		"transform.regexp_bool(r'\\w', re.TEMPLATE | re.U)": true,
		"transform.regexp_bool(r'\\w', re.DEBUG)":           false,
	} {
		fn, err := resolveConfig().resolve(code)
		if err != nil {
			t.Errorf("%s: %v", code, err)
			continue
		}
		if got, err := (&transformFn{expr: code, fn: fn}).apply(&rowState{}, "\u00e9"); err != nil || got != want {
			t.Errorf("%s(\"\u00e9\") = %v, %v; Python 2.7 gives %v", code, got, err, want)
		}
	}
	for _, code := range []string{`transform.regexp_bool(r'a*', re.T)`, `transform.regexp_bool(r'x{1}', re.TEMPLATE)`, `transform.regexp_bool(r'a+?', 1)`, `transform.regexp_bool(r'(?:a)?', re.T | re.I)`, `transform.regexp_bool(r'(?<=a)b*', re.T)`, `transform.regexp_bool(r'(?t)a*')`, `transform.regexp_bool(r'b(?t)a{2}')`, `transform.regexp_bool(r'(?t:a)')`, `transform.regexp_bool(r'(?t)(?<=a)b+')`, `transform.regexp_bool(r'(?<=a)(?t:b)')`, `transform.regexp_bool(r'a(')`, `transform.regexp_bool(r'\w', re.ASCII)`, `transform.regexp_bool(r'a', 'x' | 2)`, `transform.regexp_bool(r'a', re.I |)`} {
		if _, err := resolveConfig().resolve(code); err == nil {
			t.Errorf("%s: Python 2.7 refuses it, the config loads", code)
		}
	}
}

// TestRegexpDebugWarns: re.DEBUG loads (Python 2.7 compiles the pattern and
// prints its parse tree) with a warning at the transform, kept through a
// transform made from the regexp one; errors stay errors beside it, and
// every problem is the shared yaml11 form (file:line:col: warning: …).
func TestRegexpDebugWarns(t *testing.T) {
	const head = "python_preamble:\n- import: re\n- import: google.appengine.ext.bulkload.transform\ntransformers:\n- kind: Row\n  connector: csv\n  property_map:\n"
	cfg, err := ParseConfig("b.yaml", []byte(head+
		"  - property: a\n    external_name: a\n    import_transform: transform.none_if_empty(transform.regexp_bool(r'a', re.DEBUG | re.I))\n"+
		"  - property: b\n    external_name: b\n    import_transform: transform.regexp_bool(r'b', 2)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !cfg.Warnings[0].Warning || cfg.Warnings[0].Line != 10 || cfg.Warnings[0].Column != 23 ||
		!strings.HasPrefix(cfg.Warnings[0].String(), "b.yaml:10:23: warning: import_transform: re.DEBUG: ") {
		t.Fatalf("warnings = %#v, want one re.DEBUG warning at b.yaml:10:23", cfg.Warnings)
	}
	_, err = ParseConfig("b.yaml", []byte(head+
		"  - property: a\n    external_name: a\n    import_transform: transform.regexp_bool(r'a', re.DEBUG)\n"+
		"  - property: b\n    external_name: b\n    import_transform: transform.regexp_bool(r'b*', re.T)\n"))
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 2 || !ce.Problems[0].Warning || ce.Problems[1].Warning ||
		!strings.Contains(ce.Problems[1].Message, "re.TEMPLATE (re.T) allows no repetition") {
		t.Fatalf("err = %v, want the re.DEBUG warning and the re.T error", err)
	}
}
