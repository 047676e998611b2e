package bulkload

import (
	"reflect"
	"strconv"
	"testing"
)

// TestRegexpFlagsAsPython: the regexp transforms' flags argument is
// re.compile's, and a pattern's own inline flags are read as Python 3.11+
// reads them: at the start they apply to the whole pattern, anywhere else
// they are an error when the config loads. The verdicts were generated
// once with python3 (3.11.7) from re.match (regexp_bool), re.search's
// group 1 (regexp_extract) and re.findall (regexp_to_list) with the same
// pattern, flags and value; err is Python's refusal.
func TestRegexpFlagsAsPython(t *testing.T) {
	for _, c := range []struct {
		fn, pattern string
		flags       int64
		in          string
		want        any
		err         bool
	}{
		// re.MULTILINE from the flags: $ before each newline, not taking it.
		{fn: "regexp_to_list", pattern: `\w+$`, flags: 8, in: "ab\n\ncd", want: []any{"ab", "cd"}},
		{fn: "regexp_to_list", pattern: `\w+$`, in: "ab\n\ncd", want: []any{"cd"}},
		{fn: "regexp_to_list", pattern: `^\w`, flags: 8, in: "ab\ncd", want: []any{"a", "c"}},
		{fn: "regexp_to_list", pattern: `(?m)\w+$`, in: "ab\n\ncd", want: []any{"ab", "cd"}},
		{fn: "regexp_extract", pattern: `(y)$`, flags: 8, in: "y\nz", want: "y"},
		// Global flags not at the start: Python 3.11's error, with or without flags.
		{fn: "regexp_bool", pattern: `a(?i)b`, in: "aB", err: true},
		{fn: "regexp_bool", pattern: `a(?i)b`, flags: 2, in: "AB", err: true},
		{fn: "regexp_extract", pattern: `x(?i)(y)`, in: "xY", err: true},
		{fn: "regexp_extract", pattern: `(?=.)(?i)x(y)`, in: "XY", err: true},
		{fn: "regexp_extract", pattern: `(?=x)x(?i)(y)`, in: "xY", err: true},
		// At the start they are the whole pattern's.
		{fn: "regexp_bool", pattern: `(?i)ab`, in: "AB", want: true},
		{fn: "regexp_bool", pattern: `(?i)ab`, flags: 2, in: "AB", want: true},
		{fn: "regexp_bool", pattern: `(?s)(?i)a.b`, in: "A\nB", want: true},
		{fn: "regexp_extract", pattern: `(?i)x(y)`, in: "XY", want: "Y"},
		{fn: "regexp_extract", pattern: `(?i)(?=x)x(y)`, in: "XY", want: "Y"},
		// re.IGNORECASE from the flags, turned off in a scoped group.
		{fn: "regexp_bool", pattern: `(?-i:a)b`, flags: 2, in: "aB", want: true},
		{fn: "regexp_bool", pattern: `(?-i:a)b`, flags: 2, in: "AB", want: false},
		{fn: "regexp_bool", pattern: `(?=A)a`, flags: 2, in: "A", want: true},
		{fn: "regexp_bool", pattern: `(?=a)A$`, flags: 10, in: "a\nb", want: true},
		// re.DOTALL.
		{fn: "regexp_bool", pattern: `a.b`, flags: 16, in: "a\nb", want: true},
		{fn: "regexp_bool", pattern: `a.b`, in: "a\nb", want: false},
		// re.ASCII (256): \w is ASCII, IGNORECASE folds ASCII letters only.
		{fn: "regexp_bool", pattern: `\w`, flags: 256, in: "é", want: false},
		{fn: "regexp_bool", pattern: `\w`, in: "é", want: true},
		{fn: "regexp_bool", pattern: `(?a)k`, flags: 2, in: "\u212a", want: false},
		{fn: "regexp_bool", pattern: `k`, flags: 258, in: "\u212a", want: false},
		{fn: "regexp_bool", pattern: `k`, flags: 2, in: "\u212a", want: true},
		// Flags Python refuses for a str pattern.
		{fn: "regexp_bool", pattern: `\w`, flags: 288, in: "a", err: true},
		{fn: "regexp_bool", pattern: `(?u)\w`, flags: 256, in: "a", err: true},
		{fn: "regexp_bool", pattern: `a`, flags: 4, in: "a", err: true},
		// re.VERBOSE (64), on the backtracking engine.
		{fn: "regexp_bool", pattern: ` a b`, flags: 64, in: "ab", want: true},
	} {
		code := "transform." + c.fn + "(r'" + c.pattern + "', " + strconv.FormatInt(c.flags, 10) + ")"
		fn, err := resolveConfig().resolve(code)
		if c.err {
			if err == nil {
				t.Errorf("%s: Python refuses the pattern, the config loads", code)
			}
			continue
		}
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
