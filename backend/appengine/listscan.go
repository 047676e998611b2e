package appengine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// decodeListing reads an objects.list answer as a stream, handing each item
// to each as it is read: a page of 1,000 full object resources (a server
// may ignore fields=) is hundreds of KiB that need not be held at once.
//
// It reads the answer in one pass, keeping the three fields a listing
// needs and stepping over the rest, instead of encoding/json's Decoder,
// which scans each item twice (once to find its end, once to decode it)
// through reflection: 6-8 ms a page of 1,000 full resources against about
// 1 ms here, and a bucket of 2,000 objects is two pages in a chain, each
// decoded before the next is asked for and the last before
// versions.create. What it steps over is checked for its nesting and its
// strings only: a listing answer is trusted to be JSON, and a name it
// garbled could only make a file be sent again, never be taken as stored.
// An escaped string (rare: digests and dates need none) goes through
// encoding/json.
func decodeListing(body io.Reader, each func(gcsObject), next *string) error {
	s := scanners.Get().(*scanner)
	defer scanners.Put(s)
	s.reset(body)
	defer s.reset(nil)
	if err := s.expect('{'); err != nil {
		return err
	}
	return s.members(func(key []byte) error {
		switch string(key) {
		case "items":
			return s.elements(func() error {
				var o gcsObject
				if err := s.item(&o); err != nil {
					return err
				}
				each(o)
				return nil
			})
		case "nextPageToken":
			if c, err := s.peek(); err != nil {
				return err
			} else if c == 'n' {
				return s.skip()
			}
			tok, err := s.str()
			*next = string(tok)
			return err
		default:
			return s.skip()
		}
	})
}

// decodeObject reads one object resource, an upload's answer, into o with
// the listing's reader: a deploy's thousands of answers (each a dozen
// fields, its ACL among them, of which the size alone is checked) were
// each scanned twice by encoding/json, a few percent of a first deploy's
// CPU. What follows the object is not read.
func decodeObject(body io.Reader, o *gcsObject) error {
	s := scanners.Get().(*scanner)
	defer scanners.Put(s)
	s.reset(body)
	defer s.reset(nil)
	return s.item(o)
}

// item reads one object resource into o.
func (s *scanner) item(o *gcsObject) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	return s.members(func(key []byte) error {
		var field string // key is read over by what follows
		switch string(key) {
		case "name":
			field = "name"
		case "size":
			field = "size"
		case "timeCreated":
			field = "timeCreated"
		default:
			return s.skip()
		}
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c == 'n' {
			return s.skip() // null: left as it is, as encoding/json leaves it
		}
		if c != '"' {
			return fmt.Errorf("found %q where the string %s was expected", c, field)
		}
		v, err := s.str()
		if err != nil {
			return err
		}
		switch field {
		case "name":
			o.Name = string(v)
		case "size":
			o.Size = string(v)
		case "timeCreated":
			t, err := time.Parse(time.RFC3339, string(v))
			if err != nil {
				return fmt.Errorf("timeCreated %q: %w", v, err)
			}
			o.TimeCreated = t
		}
		return nil
	})
}

// scanners holds the readers of listing answers, each with its buffer.
var scanners = sync.Pool{New: func() any { return &scanner{buf: make([]byte, 32<<10)} }}

// scanner reads JSON from r through buf, a byte at a time.
type scanner struct {
	r    io.Reader
	buf  []byte
	i, n int
	err  error  // the read error that ended the input
	tmp  []byte // the string being read, when it spans a refill or is escaped
}

func (s *scanner) reset(r io.Reader) {
	s.r, s.i, s.n, s.err, s.tmp = r, 0, 0, nil, s.tmp[:0]
}

// fill reads more input; false at its end.
func (s *scanner) fill() bool {
	for s.err == nil {
		s.i = 0
		s.n, s.err = s.r.Read(s.buf)
		if s.n > 0 {
			return true
		}
	}
	s.n = 0
	return false
}

// end is the error for input that stops too soon.
func (s *scanner) end() error {
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return s.err
	}
	return io.ErrUnexpectedEOF
}

// peek returns the next byte that is not white space, without taking it.
func (s *scanner) peek() (byte, error) {
	for {
		for ; s.i < s.n; s.i++ {
			switch c := s.buf[s.i]; c {
			case ' ', '\t', '\n', '\r':
			default:
				return c, nil
			}
		}
		if !s.fill() {
			return 0, s.end()
		}
	}
}

// expect takes the next byte that is not white space, which must be c.
func (s *scanner) expect(c byte) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return fmt.Errorf("found %q where %q was expected", got, c)
	}
	s.i++
	return nil
}

// members reads an object's members after its '{', calling member with
// each key (valid until the next read) to read its value.
func (s *scanner) members(member func(key []byte) error) error {
	if empty, err := s.empty('}'); empty || err != nil {
		return err
	}
	for {
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if done, err := s.after('}', "an object member"); done || err != nil {
			return err
		}
	}
}

// elements reads an array (or null), calling element for each of its
// values.
func (s *scanner) elements(element func() error) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == 'n' {
		return s.skip()
	}
	if c != '[' {
		return fmt.Errorf("found %q where an array was expected", c)
	}
	s.i++
	if empty, err := s.empty(']'); empty || err != nil {
		return err
	}
	for {
		if err := element(); err != nil {
			return err
		}
		if done, err := s.after(']', "an array element"); done || err != nil {
			return err
		}
	}
}

// empty takes closing when it is the next byte that is not white space:
// the end of an object or array that holds nothing.
func (s *scanner) empty(closing byte) (bool, error) {
	c, err := s.peek()
	if err != nil || c != closing {
		return false, err
	}
	s.i++
	return true, nil
}

// after takes what follows an object's member or an array's element (what
// names it, for the error): a comma, or the closing byte that ends it
// (done).
func (s *scanner) after(closing byte, what string) (done bool, err error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	s.i++
	switch c {
	case ',':
		return false, nil
	case closing:
		return true, nil
	}
	return false, fmt.Errorf("found %q after %s", c, what)
}

// str reads a string and returns its value, valid until the next read.
func (s *scanner) str() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	s.tmp = s.tmp[:0]
	escaped, sawEscape, spans := false, false, false
	for {
		start := s.i
		for ; s.i < s.n; s.i++ {
			c := s.buf[s.i]
			switch {
			case c == '"' && !escaped:
				v := s.buf[start:s.i] // the common case: no copy
				if spans {
					s.tmp = append(s.tmp, v...)
					v = s.tmp
				}
				s.i++
				if sawEscape {
					return unescape(v)
				}
				return v, nil
			case c == '\\' && !escaped:
				escaped, sawEscape = true, true
			case c < 0x20:
				return nil, fmt.Errorf("control character %#x in a string", c)
			default:
				escaped = false
			}
		}
		s.tmp, spans = append(s.tmp, s.buf[start:s.n]...), true
		if !s.fill() {
			return nil, s.end()
		}
	}
}

// unescape returns v, the inside of a string as written that holds an
// escape, as its value, which encoding/json decodes.
func unescape(v []byte) ([]byte, error) {
	quoted := make([]byte, 0, len(v)+2)
	quoted = append(append(append(quoted, '"'), v...), '"')
	var out string
	if err := json.Unmarshal(quoted, &out); err != nil {
		return nil, err
	}
	return []byte(out), nil
}

// skip steps over one value: strings read through, objects and arrays
// by their nesting, numbers and literals to their end.
func (s *scanner) skip() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{' || c == '[':
		return s.skipNested()
	case c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n':
		for {
			for ; s.i < s.n; s.i++ {
				switch c := s.buf[s.i]; {
				case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c == '-', c == '+', c == '.', c == 'E':
				default:
					return nil
				}
			}
			if !s.fill() {
				return nil // the end of the input ends a number; what follows says if it was too soon
			}
		}
	default:
		return fmt.Errorf("found %q where a value was expected", c)
	}
}

// skipNested steps over an object or array, the bracket that opens it next.
func (s *scanner) skipNested() error {
	var open []byte // the brackets open, innermost last
	inString, escaped := false, false
	for {
		for ; s.i < s.n; s.i++ {
			c := s.buf[s.i]
			if inString {
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				open = append(open, c)
			case '}', ']':
				want := byte('{')
				if c == ']' {
					want = '['
				}
				if len(open) == 0 || open[len(open)-1] != want {
					return fmt.Errorf("found %q that closes nothing open", c)
				}
				open = open[:len(open)-1]
				if len(open) == 0 {
					s.i++
					return nil
				}
			}
		}
		if !s.fill() {
			return s.end()
		}
	}
}
