package hashcache

import (
	"bufio"
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// The file is a format line, then one line per entry:
//
//	SUM SIZE MTIME CTIME INODE MARKS PATH
//
// SUM and MARKS "-" for none, PATH quoted (strconv.Quote), the lines in the
// byte order of their quoted paths. Kept in that order, the file is looked
// up where it lies: loading it finds where each line starts and nothing
// more, and an entry is parsed when it is looked up. Callers look files up
// in the order the walk lists them, which is (nearly) the file's, so a
// lookup mostly finds its line just after the previous one.

// line is where one entry lies in the text: text[start:end], its quoted
// path from path on.
type line struct{ start, path, end int32 }

// lines are the entries of a cache file, in the order of their quoted paths.
type lines struct {
	text  string // the file; entries' digests and marks are slices of it
	at    []line
	used  []bool // looked up unchanged in this run: Save keeps them
	nused int
	next  int    // the line after the last one found: where to look first
	quote []byte // the quoted path being looked for (scratch)
}

// loadLines indexes the file data (which is not written again). A file
// whose first line is not formatLine, or too large to index, is empty.
// reorder says the lines were not in order (an older appcfg wrote them in
// no order): they are sorted here, and the file wants rewriting.
func loadLines(data []byte) (l lines, reorder bool) {
	if len(data) > math.MaxInt32 {
		return lines{}, false
	}
	// One string for the whole file, sharing data's memory: data is never
	// written again, and the digests returned are slices of it.
	text := unsafe.String(unsafe.SliceData(data), len(data))
	first, rest, _ := strings.Cut(text, "\n")
	if first != formatLine {
		return lines{}, false
	}
	l = lines{text: text, at: make([]line, 0, strings.Count(rest, "\n")+1)}
	for off := len(first) + 1; off < len(text); {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		if p := pathField(text[off:end]); p > 0 {
			ln := line{start: int32(off), path: int32(off + p), end: int32(end)}
			if n := len(l.at); n > 0 && l.quoted(n-1) >= l.quotedOf(ln) {
				reorder = true
			}
			l.at = append(l.at, ln)
		}
		off = end + 1
	}
	if reorder {
		// Stable, then the last line of a path kept: as when a later line
		// overwrote an earlier one in a map.
		slices.SortStableFunc(l.at, func(a, b line) int { return strings.Compare(l.quotedOf(a), l.quotedOf(b)) })
		kept := l.at[:0]
		for i, ln := range l.at {
			if i+1 < len(l.at) && l.quotedOf(l.at[i+1]) == l.quotedOf(ln) {
				continue
			}
			kept = append(kept, ln)
		}
		l.at = kept
	}
	l.used = make([]bool, len(l.at))
	return l, reorder
}

// pathField returns where the path of an entry line begins (after six
// fields, each ended by a space), 0 when the line has no path.
func pathField(s string) int {
	p := 0
	for range 6 {
		i := strings.IndexByte(s[p:], ' ')
		if i < 0 {
			return 0
		}
		p += i + 1
	}
	if p == len(s) {
		return 0
	}
	return p
}

func (l *lines) quotedOf(ln line) string { return l.text[ln.path:ln.end] }
func (l *lines) quoted(i int) string     { return l.quotedOf(l.at[i]) }

// find returns the line of rel, or where it would be.
func (l *lines) find(rel string) (int, bool) {
	if len(l.at) == 0 {
		return 0, false
	}
	l.quote = appendQuote(l.quote[:0], rel)
	q := unsafe.String(unsafe.SliceData(l.quote), len(l.quote)) // valid until the next find
	// The line after the last one found, or that one again (update asks
	// the secret guard's verdict, then the hash).
	for _, i := range [2]int{l.next, l.next - 1} {
		if i >= 0 && i < len(l.at) && l.quoted(i) == q {
			l.next = i + 1
			return i, true
		}
	}
	i, found := slices.BinarySearchFunc(l.at, q, func(ln line, q string) int { return strings.Compare(l.quotedOf(ln), q) })
	l.next = i
	if found {
		l.next = i + 1
	}
	return i, found
}

// entry parses line i; ok is false for a line that does not parse.
func (l *lines) entry(i int) (e entry, ok bool) {
	ln := l.at[i]
	var f [6]string
	rest := l.text[ln.start : ln.path-1]
	for i := range 5 {
		f[i], rest, _ = strings.Cut(rest, " ")
	}
	f[5] = rest
	if (len(f[0]) != 40 && f[0] != "-") || f[5] == "" {
		return entry{}, false
	}
	if f[0] != "-" {
		e.sum = f[0]
	}
	if f[5] != "-" {
		e.marks = f[5]
	}
	var errs [4]error
	e.stat.Size, errs[0] = parseInt(f[1])
	e.stat.MTime, errs[1] = parseInt(f[2])
	e.stat.CTime, errs[2] = parseInt(f[3])
	e.stat.Inode, errs[3] = parseUint(f[4])
	for _, err := range errs {
		if err != nil {
			return entry{}, false
		}
	}
	// The path needs no check: find matched it with the quoted path
	// looked for, so it reads back as that path.
	return e, true
}

// parseInt is strconv.ParseInt(s, 10, 64), read by hand where s is what
// strconv.AppendInt writes (a "-" and up to 19 digits, in range): the
// lookups of ls_files parse four numbers an entry, 10,000 entries, and
// strconv's handling of bases, signs, underscores and errors was most of
// the lookup's time. Anything else goes to strconv, so the answer is
// always strconv's.
func parseInt(s string) (int64, error) {
	d, neg := s, len(s) > 0 && s[0] == '-'
	if neg {
		d = s[1:]
	}
	n, ok := parseDigits(d)
	switch {
	case !ok || n > math.MaxInt64+1 || n == math.MaxInt64+1 && !neg:
		return strconv.ParseInt(s, 10, 64)
	case neg:
		return -int64(n), nil
	}
	return int64(n), nil
}

// parseUint is strconv.ParseUint(s, 10, 64), as parseInt is ParseInt.
func parseUint(s string) (uint64, error) {
	if n, ok := parseDigits(s); ok {
		return n, nil
	}
	return strconv.ParseUint(s, 10, 64)
}

// parseDigits reads 1 to 19 decimal digits (which cannot overflow a
// uint64); ok is false for anything else.
func parseDigits(d string) (n uint64, ok bool) {
	if len(d) == 0 || len(d) > 19 {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		c := d[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + uint64(c)
	}
	return n, true
}

// use marks line i as used in this run.
func (l *lines) use(i int) {
	if !l.used[i] {
		l.used[i] = true
		l.nused++
	}
}

func (l *lines) allUsed() bool { return l.nused == len(l.at) }

// write writes the file: the lines used in this run that fresh does not
// replace, as they are, and the entries of fresh, in path order.
func (l *lines) write(w *bufio.Writer, fresh map[string]entry) {
	type quoted struct {
		q string
		e entry
	}
	add := make([]quoted, 0, len(fresh))
	for rel, e := range fresh {
		add = append(add, quoted{strconv.Quote(rel), e})
	}
	slices.SortFunc(add, func(a, b quoted) int { return strings.Compare(a.q, b.q) })
	var buf []byte
	put := func(a quoted) {
		buf = append(buf[:0], cmp.Or(a.e.sum, "-")...)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, a.e.stat.Size, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, a.e.stat.MTime, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, a.e.stat.CTime, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendUint(buf, a.e.stat.Inode, 10)
		buf = append(buf, ' ')
		buf = append(buf, cmp.Or(a.e.marks, "-")...)
		buf = append(buf, ' ')
		buf = append(buf, a.q...)
		buf = append(buf, '\n')
		w.Write(buf)
	}
	w.WriteString(formatLine + "\n")
	j := 0
	for i := range l.at {
		q := l.quoted(i)
		for ; j < len(add) && add[j].q < q; j++ {
			put(add[j])
		}
		if j < len(add) && add[j].q == q {
			continue // replaced: written with the next line, or at the end
		}
		if l.used[i] {
			ln := l.at[i]
			w.WriteString(l.text[ln.start:ln.end])
			w.WriteByte('\n')
		}
	}
	for ; j < len(add); j++ {
		put(add[j])
	}
}

// appendQuote is strconv.AppendQuote, without its per-rune work for the
// usual path (printable ASCII, no quote or backslash), which it leaves
// as it is.
func appendQuote(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
