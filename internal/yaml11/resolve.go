package yaml11

import (
	"github.com/appcfg/appcfg/internal/lazyre"
	"math"
	"math/big"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind is the YAML 1.1 type a scalar resolves to.
type Kind int

// The scalar kinds of the YAML 1.1 schema the SDK uses.
const (
	String Kind = iota
	Null
	Bool
	Int
	Float
	Timestamp
)

func (k Kind) String() string {
	return [...]string{"string", "null", "bool", "int", "float", "timestamp"}[k]
}

// Scalar is a resolved scalar value.
type Scalar struct {
	Kind  Kind
	Text  string   // the scalar's text as written (after YAML unquoting)
	Bool  bool     // for Bool
	Int   *big.Int // for Int; YAML ints are unbounded, as in Python
	Float float64  // for Float
}

// The implicit resolvers of ruamel.yaml for YAML 1.1, which the SDK selects
// explicitly. Null, bool and int are matched by hand (isNull, isBool,
// isInt): app.yaml's scalars are nearly all strings, names or small ints,
// and compiling the resolvers' regular expressions cost more than the
// validation of a whole app.yaml (about 0.7 ms, a tenth of it in page
// faults). Float and timestamp keep their expressions, compiled only for a
// scalar that can start one (mayBeNumber); resolve_test.go checks each
// hand matcher against ruamel's expression over every short string of the
// characters they care about. The (?x)-style whitespace of the originals is
// removed.
var (
	reFloat = lazyre.New(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?` +
		`|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)` +
		`|\.[0-9_]+(?:[eE][-+][0-9]+)?` +
		`|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` +
		`|[-+]?\.(?:inf|Inf|INF)` +
		`|\.(?:nan|NaN|NAN))$`)
	reTimestamp = lazyre.New(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]` +
		`|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?` +
		`(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?` +
		`(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// isNull is ruamel's `^(?:~|null|Null|NULL|)$`.
func isNull(t string) bool {
	switch t {
	case "~", "null", "Null", "NULL", "":
		return true
	}
	return false
}

// isBool is ruamel's YAML 1.1 bool: y, yes, n, no, true, false, on, off,
// each in lower case, capitalised or upper case.
func isBool(t string) bool {
	switch t {
	case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF":
		return true
	}
	return false
}

// isInt is ruamel's YAML 1.1 int, an optional sign before one of
// 0b[0-1_]+, 0?[0-7_]+, 0|[1-9][0-9_]*, 0x[0-9a-fA-F_]+ and the
// sexagesimal [1-9][0-9_]*(?::[0-5]?[0-9])+.
func isInt(t string) bool {
	if t != "" && (t[0] == '-' || t[0] == '+') {
		t = t[1:]
	}
	switch {
	case t == "":
		return false
	case len(t) > 2 && t[:2] == "0b":
		return allIn(t[2:], func(c byte) bool { return c == '0' || c == '1' || c == '_' })
	case len(t) > 2 && t[:2] == "0x":
		return allIn(t[2:], func(c byte) bool {
			return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == '_'
		})
	case allIn(t, func(c byte) bool { return '0' <= c && c <= '7' || c == '_' }):
		return true // octal, which also takes "0" and a lone "_"
	case t[0] < '1' || t[0] > '9':
		return false
	}
	head, sexagesimal, hasColon := strings.Cut(t, ":")
	if !allIn(head[1:], func(c byte) bool { return isDigit(c) || c == '_' }) {
		return false
	}
	if !hasColon {
		return true
	}
	for _, part := range strings.Split(sexagesimal, ":") {
		switch {
		case len(part) == 1 && isDigit(part[0]):
		case len(part) == 2 && '0' <= part[0] && part[0] <= '5' && isDigit(part[1]):
		default:
			return false
		}
	}
	return true
}

// mayBeNumber says whether t can match reFloat or reTimestamp, both of
// which start with a sign, a dot or a digit and are written with digits
// and a few other characters: other scalars (names, paths, "10m") need
// neither expression compiled.
func mayBeNumber(t string) bool {
	if t == "" || !(t[0] == '-' || t[0] == '+' || t[0] == '.' || isDigit(t[0])) {
		return false
	}
	return allIn(t, func(c byte) bool {
		return isDigit(c) || strings.IndexByte("-+._:eEinfINFaAtTZ \t", c) >= 0
	})
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allIn(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// Resolve gives a scalar node its YAML 1.1 meaning. Quoted and block scalars
// are strings; an explicit standard tag (!!str, !!int …) is honoured.
func Resolve(n *yaml.Node) Scalar {
	s := Scalar{Kind: String, Text: n.Value}
	tag := ""
	if n.Tag != "" && n.Style&yaml.TaggedStyle != 0 {
		tag = n.ShortTag()
	}
	switch {
	case tag == "!!str":
		return s
	case tag != "":
		return resolveTagged(s, tag)
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return s
	}
	return resolvePlain(s)
}

// ResolveText resolves the text of a plain scalar.
func ResolveText(text string) Scalar { return resolvePlain(Scalar{Kind: String, Text: text}) }

func resolvePlain(s Scalar) Scalar {
	t := s.Text
	switch {
	case isNull(t):
		s.Kind = Null
	case isBool(t):
		s.Kind, s.Bool = Bool, parseBool(t)
	case isInt(t):
		if v, ok := parseInt(t); ok {
			s.Kind, s.Int = Int, v
		}
	case !mayBeNumber(t):
	case reFloat.MatchString(t):
		if v, ok := parseFloat(t); ok {
			s.Kind, s.Float = Float, v
		}
	case reTimestamp.MatchString(t):
		s.Kind = Timestamp
	}
	return s
}

func resolveTagged(s Scalar, tag string) Scalar {
	r := resolvePlain(s)
	switch {
	case tag == "!!null" && r.Kind == Null,
		tag == "!!bool" && r.Kind == Bool,
		tag == "!!int" && r.Kind == Int,
		tag == "!!float" && (r.Kind == Float || r.Kind == Int),
		tag == "!!timestamp" && r.Kind == Timestamp:
		if tag == "!!float" && r.Kind == Int {
			f, _ := new(big.Float).SetInt(r.Int).Float64()
			r.Kind, r.Float = Float, f
		}
		return r
	}
	return s
}

func parseBool(t string) bool {
	switch strings.ToLower(t) {
	case "y", "yes", "true", "on":
		return true
	}
	return false
}

// parseInt follows ruamel's construct_yaml_int for YAML 1.1.
func parseInt(t string) (*big.Int, bool) {
	t = strings.ReplaceAll(t, "_", "")
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	v := new(big.Int)
	ok := true
	switch {
	case t == "":
		return nil, false
	case t == "0":
	case strings.HasPrefix(t, "0b"):
		_, ok = v.SetString(t[2:], 2)
	case strings.HasPrefix(t, "0x"):
		_, ok = v.SetString(t[2:], 16)
	case t[0] == '0':
		_, ok = v.SetString(t, 8)
	case strings.Contains(t, ":"):
		for _, part := range strings.Split(t, ":") {
			d, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return nil, false
			}
			v.Mul(v, big.NewInt(60))
			v.Add(v, big.NewInt(d))
		}
	default:
		_, ok = v.SetString(t, 10)
	}
	if neg {
		v.Neg(v)
	}
	return v, ok
}

func parseFloat(t string) (float64, bool) {
	t = strings.ToLower(strings.ReplaceAll(t, "_", ""))
	sign := 1.0
	if t != "" && (t[0] == '-' || t[0] == '+') {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	switch {
	case t == ".inf":
		return sign * math.Inf(1), true
	case t == ".nan":
		return math.NaN(), true
	case strings.Contains(t, ":"):
		v := 0.0
		for _, part := range strings.Split(t, ":") {
			d, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return 0, false
			}
			v = v*60 + d
		}
		return sign * v, true
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	return sign * v, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// PyStr renders the value as Python's str() does, which is what the SDK
// stores in a string-typed field.
func (s Scalar) PyStr() string {
	switch s.Kind {
	case Null:
		return "None"
	case Bool:
		if s.Bool {
			return "True"
		}
		return "False"
	case Int:
		return s.Int.String()
	case Float:
		return PyFloat(s.Float)
	case Timestamp:
		return pyTimestamp(s.Text)
	}
	return s.Text
}

// PyFloat formats f as Python 3's repr/str of a float.
func PyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	// Python uses the shortest round-tripping digits, in positional form for
	// decimal exponents in [-4, 16), else scientific with at least 2 exponent digits.
	digits := strconv.FormatFloat(math.Abs(f), 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(digits, "e")
	exp, _ := strconv.Atoi(expStr)
	sign := ""
	if math.Signbit(f) {
		sign = "-"
	}
	ds := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		m := ds[:1]
		if len(ds) > 1 {
			m += "." + ds[1:]
		}
		e := "+"
		if exp < 0 {
			e, exp = "-", -exp
		}
		return sign + m + "e" + e + leftPad(strconv.Itoa(exp), 2)
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + ds
	}
	if len(ds) <= exp+1 {
		return sign + ds + strings.Repeat("0", exp+1-len(ds)) + ".0"
	}
	return sign + ds[:exp+1] + "." + ds[exp+1:]
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// pyTimestamp renders a YAML timestamp as str() of the datetime.date or
// datetime.datetime ruamel builds: dates stay as written (zero-padded),
// date-times become "YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]".
func pyTimestamp(t string) string {
	m := reTimestampParts.FindStringSubmatch(t)
	if m == nil {
		return t
	}
	date := m[1] + "-" + leftPad(m[2], 2) + "-" + leftPad(m[3], 2)
	if m[4] == "" {
		return date
	}
	out := date + " " + leftPad(m[4], 2) + ":" + m[5] + ":" + m[6]
	if frac := m[7]; frac != "" {
		frac = (frac + "000000")[:6]
		if strings.Trim(frac, "0") != "" {
			out += "." + frac
		}
	}
	// ruamel builds a naive datetime for "Z"; an explicit offset is kept
	// as written, which differs from ruamel's UTC shift only in rendering.
	if tz := m[8]; tz != "" && tz != "Z" {
		h, mm, _ := strings.Cut(tz[1:], ":")
		out += tz[:1] + leftPad(h, 2) + ":" + leftPad(mm, 2)
	}
	return out
}

var reTimestampParts = lazyre.New(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})` +
	`(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?` +
	`(?:[ \t]*(Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$`)
