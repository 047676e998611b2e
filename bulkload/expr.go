package bulkload

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// The legacy bulkloader evaluated each transform string as Python. We parse
// the small subset real configs use — dotted names, calls with positional
// and keyword arguments, string/number/bool/None literals, tuples and lists,
// "|" between integers (re.I | re.M) — and resolve names against a fixed
// catalogue (catalogue.go). Anything else (lambda, other operators,
// attribute access on call results) is refused with a
// message naming what is supported.

// node is a parsed expression.
type node interface{ String() string }

type (
	nameNode  struct{ parts []string } // transform.none_if_empty
	strNode   struct{ s string }
	intNode   struct{ v int64 }
	floatNode struct{ v float64 }
	constNode struct{ v any } // True, False, None
	tupleNode struct{ elems []node }
	// orNode is "a | b": integers only, for re's flags (re.I | re.M), the
	// one operator a transform's arguments need.
	orNode   struct{ l, r node }
	callNode struct {
		fn     node
		args   []node
		kwargs map[string]node
		kwKeys []string
	}
)

func (n nameNode) String() string  { return strings.Join(n.parts, ".") }
func (n strNode) String() string   { return strconv.Quote(n.s) }
func (n intNode) String() string   { return strconv.FormatInt(n.v, 10) }
func (n floatNode) String() string { return strconv.FormatFloat(n.v, 'g', -1, 64) }
func (n constNode) String() string { return fmt.Sprint(n.v) }
func (n orNode) String() string    { return n.l.String() + " | " + n.r.String() }
func (n tupleNode) String() string {
	s := make([]string, len(n.elems))
	for i, e := range n.elems {
		s[i] = e.String()
	}
	return "(" + strings.Join(s, ", ") + ")"
}
func (n callNode) String() string {
	var s []string
	for _, a := range n.args {
		s = append(s, a.String())
	}
	for _, k := range n.kwKeys {
		s = append(s, k+"="+n.kwargs[k].String())
	}
	return n.fn.String() + "(" + strings.Join(s, ", ") + ")"
}

// parseExpr parses one expression.
func parseExpr(src string) (node, error) {
	p := &exprParser{src: src}
	p.skipSpace()
	if p.pos == len(p.src) {
		return nil, fmt.Errorf("the expression is empty")
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("unexpected %q at column %d: only names, calls, literals and | between integers are supported", p.src[p.pos:], p.pos+1)
	}
	return n, nil
}

type exprParser struct {
	src string
	pos int
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *exprParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *exprParser) errf(format string, args ...any) error {
	return fmt.Errorf("column %d: %s", p.pos+1, fmt.Sprintf(format, args...))
}

// expr parses primaries joined by "|".
func (p *exprParser) expr() (node, error) {
	n, err := p.primary()
	for err == nil {
		p.skipSpace()
		if p.peek() != '|' {
			return n, nil
		}
		p.pos++
		var r node
		if r, err = p.primary(); err == nil {
			n = orNode{n, r}
		}
	}
	return nil, err
}

// primary parses an atom with its calls and attributes.
func (p *exprParser) primary() (node, error) {
	p.skipSpace()
	n, err := p.atom()
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		switch p.peek() {
		case '(':
			p.pos++
			c, err := p.call(n)
			if err != nil {
				return nil, err
			}
			n = c
		case '.':
			if _, ok := n.(nameNode); !ok {
				return nil, p.errf("attribute access on %s is not supported", n)
			}
			p.pos++
			p.skipSpace()
			id := p.ident()
			if id == "" {
				return nil, p.errf("a name must follow '.'")
			}
			nn := n.(nameNode)
			n = nameNode{parts: append(append([]string(nil), nn.parts...), id)}
		default:
			return n, nil
		}
	}
}

func (p *exprParser) ident() string {
	start := p.pos
	for p.pos < len(p.src) {
		r := rune(p.src[p.pos])
		if r == '_' || unicode.IsLetter(r) || (p.pos > start && unicode.IsDigit(r)) {
			p.pos++
			continue
		}
		break
	}
	return p.src[start:p.pos]
}

func (p *exprParser) atom() (node, error) {
	c := p.peek()
	switch {
	case c == '(' || c == '[':
		closing := byte(')')
		if c == '[' {
			closing = ']'
		}
		p.pos++
		var elems []node
		for {
			p.skipSpace()
			if p.peek() == closing {
				p.pos++
				return tupleNode{elems}, nil
			}
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
			p.skipSpace()
			switch p.peek() {
			case ',':
				p.pos++
			case closing:
			default:
				return nil, p.errf("expected ',' or %q", closing)
			}
		}
	case c == '\'' || c == '"':
		return p.str(false)
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.number()
	case c == '_' || unicode.IsLetter(rune(c)):
		start := p.pos
		id := p.ident()
		// String prefixes u'', r'', b'' (and ur'').
		if q := p.peek(); (q == '\'' || q == '"') && len(id) <= 2 && strings.Trim(strings.ToLower(id), "urb") == "" {
			return p.str(strings.ContainsAny(strings.ToLower(id), "r"))
		}
		switch id {
		case "True":
			return constNode{true}, nil
		case "False":
			return constNode{false}, nil
		case "None":
			return constNode{nil}, nil
		case "lambda":
			return nil, fmt.Errorf("column %d: lambda expressions cannot be evaluated: Python code is not run; use a named transform", start+1)
		}
		return nameNode{parts: []string{id}}, nil
	case c == 0:
		return nil, p.errf("the expression ends too early")
	}
	return nil, p.errf("unexpected %q: only names, calls, literals and | between integers are supported", string(c))
}

func (p *exprParser) number() (node, error) {
	start := p.pos
	if c := p.peek(); c == '-' || c == '+' {
		p.pos++
	}
	for p.pos < len(p.src) && strings.IndexByte("0123456789.eE_xXabcdefABCDEFlL", p.src[p.pos]) >= 0 {
		if (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '-' || p.src[p.pos+1] == '+') {
			p.pos++
		}
		p.pos++
	}
	lit := strings.TrimRight(p.src[start:p.pos], "lL")
	if v, err := strconv.ParseInt(lit, 0, 64); err == nil {
		return intNode{v}, nil
	}
	if v, err := strconv.ParseFloat(lit, 64); err == nil {
		return floatNode{v}, nil
	}
	return nil, fmt.Errorf("column %d: %q is not a number", start+1, p.src[start:p.pos])
}

// str reads a Python string literal with the common escapes.
func (p *exprParser) str(raw bool) (node, error) {
	q := p.src[p.pos]
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return strNode{b.String()}, nil
		case c == '\\' && p.pos+1 < len(p.src):
			n := p.src[p.pos+1]
			p.pos += 2
			if raw {
				b.WriteByte('\\')
				b.WriteByte(n)
				continue
			}
			switch n {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case '\\', '\'', '"':
				b.WriteByte(n)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return nil, fmt.Errorf("column %d: the string is not closed", start+1)
}

func (p *exprParser) call(fn node) (node, error) {
	c := callNode{fn: fn, kwargs: map[string]node{}}
	for {
		p.skipSpace()
		if p.peek() == ')' {
			p.pos++
			return c, nil
		}
		// keyword=value?
		save := p.pos
		if id := p.ident(); id != "" {
			p.skipSpace()
			if p.peek() == '=' && (p.pos+1 >= len(p.src) || p.src[p.pos+1] != '=') {
				p.pos++
				v, err := p.expr()
				if err != nil {
					return nil, err
				}
				if _, dup := c.kwargs[id]; dup {
					return nil, p.errf("keyword argument %s repeated", id)
				}
				c.kwargs[id] = v
				c.kwKeys = append(c.kwKeys, id)
				goto next
			}
		}
		p.pos = save
		{
			if len(c.kwKeys) > 0 {
				return nil, p.errf("positional argument after keyword argument")
			}
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
		}
	next:
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
		default:
			return nil, p.errf("expected ',' or ')' in the argument list")
		}
	}
}
