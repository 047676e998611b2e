package pyre

import (
	"encoding/binary"
	"regexp/syntax"
	"sort"
	"sync"
	"unicode/utf8"
)

// maxDFAStates bounds the cache; past it the DFA gives up on the call and
// regexp answers, so memory stays bounded whatever the pattern.
const maxDFAStates = 4096

// lazyDFA answers MatchString for a pattern anchored at the start (re.match,
// and every full match): does a prefix of the input match? Go's regexp runs
// a backtracker or an NFA, which costs microseconds per path for
// skip_files-style patterns ("^(.*/)?(...)$"), too slow for 100,000 paths;
// a lazily built DFA makes each match a walk over the bytes of the input.
// Patterns with assertions the DFA does not model (word boundaries,
// multi-line anchors), or not anchored at the start, use regexp.
// It is a DFA over runes, built on demand from the NFA program.
type lazyDFA struct {
	prog   *syntax.Prog
	mu     sync.Mutex
	states map[string]*dstate
	start  *dstate
	// scratch for closure computation
	seen  []bool
	stack []uint32
}

// dstate is a set of NFA threads after some input.
type dstate struct {
	pcs     []uint32 // threads waiting on a rune, or on end of text
	matched bool     // the pattern has matched a prefix already
	ascii   [128]*dstate
	other   map[rune]*dstate
	// endOK caches whether the pattern matches if the input ends here:
	// 0 unknown, 1 yes, 2 no.
	endOK uint8
}

func newLazyDFA(re *syntax.Regexp) *lazyDFA {
	prog, err := syntax.Compile(re.Simplify())
	if err != nil || prog.StartCond()&syntax.EmptyBeginText == 0 {
		// Unanchored (a search): the DFA only tries the match at 0.
		return nil
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth {
			switch syntax.EmptyOp(in.Arg) {
			case syntax.EmptyBeginText, syntax.EmptyEndText:
			default:
				return nil
			}
		}
	}
	d := &lazyDFA{prog: prog, states: map[string]*dstate{}, seen: make([]bool, len(prog.Inst))}
	d.start = d.closure([]uint32{uint32(prog.Start)}, true)
	return d
}

// closure follows empty transitions from pcs; begin tells whether the
// position is the start of the text. End-of-text assertions stay pending.
func (d *lazyDFA) closure(pcs []uint32, begin bool) *dstate {
	var out []uint32
	matched := d.follow(pcs, func(pc uint32, in *syntax.Inst) bool {
		if in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg) == syntax.EmptyBeginText {
			return begin
		}
		if in.Op != syntax.InstFail {
			out = append(out, pc) // a rune to consume, or the end of text
		}
		return false
	})
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return d.intern(out, matched)
}

// follow walks the empty transitions (alternations, captures, no-ops) from
// pcs and reports whether Match is reached. Every other instruction goes to
// other, which says whether to pass through it (an assertion that holds).
func (d *lazyDFA) follow(pcs []uint32, other func(pc uint32, in *syntax.Inst) bool) (matched bool) {
	for i := range d.seen {
		d.seen[i] = false
	}
	d.stack = append(d.stack[:0], pcs...)
	for len(d.stack) > 0 {
		pc := d.stack[len(d.stack)-1]
		d.stack = d.stack[:len(d.stack)-1]
		if d.seen[pc] {
			continue
		}
		d.seen[pc] = true
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			d.stack = append(d.stack, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop:
			d.stack = append(d.stack, in.Out)
		case syntax.InstMatch:
			matched = true
		default:
			if other(pc, in) {
				d.stack = append(d.stack, in.Out)
			}
		}
	}
	return matched
}

func (d *lazyDFA) intern(pcs []uint32, matched bool) *dstate {
	key := make([]byte, 1, 1+4*len(pcs))
	if matched {
		key[0] = 1
	}
	for _, pc := range pcs {
		key = binary.LittleEndian.AppendUint32(key, pc)
	}
	if s, ok := d.states[string(key)]; ok {
		return s
	}
	s := &dstate{pcs: pcs, matched: matched}
	d.states[string(key)] = s
	return s
}

// step computes the state after rune r.
func (d *lazyDFA) step(s *dstate, r rune) *dstate {
	var next []uint32
	for _, pc := range s.pcs {
		in := &d.prog.Inst[pc]
		var ok bool
		switch in.Op {
		case syntax.InstRune:
			ok = in.MatchRune(r)
		case syntax.InstRune1:
			ok = r == in.Rune[0]
		case syntax.InstRuneAny:
			ok = true
		case syntax.InstRuneAnyNotNL:
			ok = r != '\n'
		}
		if ok {
			next = append(next, in.Out)
		}
	}
	return d.closure(next, false)
}

// atEnd tells whether the pattern matches when the text ends in state s.
func (d *lazyDFA) atEnd(s *dstate) bool {
	if s.endOK == 0 {
		s.endOK = 2
		var pending []uint32
		for _, pc := range s.pcs {
			if in := &d.prog.Inst[pc]; in.Op == syntax.InstEmptyWidth {
				pending = append(pending, in.Out)
			}
		}
		if len(pending) > 0 && d.closureMatches(pending) {
			s.endOK = 1
		}
	}
	return s.endOK == 1
}

// closureMatches reports whether Match is reachable from pcs at the end of
// the text, where only empty transitions remain.
func (d *lazyDFA) closureMatches(pcs []uint32) bool {
	return d.follow(pcs, func(_ uint32, in *syntax.Inst) bool {
		return in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg) == syntax.EmptyEndText
	})
}

// match runs s; done is false when the state budget ran out and the
// caller must ask regexp instead.
func (d *lazyDFA) match(s string) (ok, done bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.start
	for i := 0; i < len(s); {
		if st.matched {
			return true, true
		}
		if len(st.pcs) == 0 {
			return false, true
		}
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		var next *dstate
		if r < utf8.RuneSelf {
			next = st.ascii[r]
		} else {
			next = st.other[r]
		}
		if next == nil {
			if len(d.states) >= maxDFAStates {
				return false, false
			}
			next = d.step(st, r)
			if r < utf8.RuneSelf {
				st.ascii[r] = next
			} else {
				if st.other == nil {
					st.other = map[rune]*dstate{}
				}
				st.other[r] = next
			}
		}
		st = next
	}
	return st.matched || d.atEnd(st), true
}
