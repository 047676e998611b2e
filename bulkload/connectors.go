package bulkload

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// record is one input record: its 1-based number (after header rows), the
// line it starts on, and its fields; err is set when the record could not
// be read (it is then reported as failed, not loaded).
type record struct {
	num, line int
	// fields holds the values by column name, or, for CSV (which has one
	// column list for all records), cols and row do: a map per record cost
	// a bulk load as much as converting its values.
	fields    map[string]string
	cols, row []string
	raw       []byte // the record's own bytes, for JSON Lines restore
	size      int
	err       error
}

// get returns the value of column name, as fieldMap()[name] would.
func (r *record) get(name string) (string, bool) {
	if r.fields != nil || r.cols == nil {
		v, ok := r.fields[name]
		return v, ok
	}
	// The last of duplicate column names wins, as in a map.
	for i := min(len(r.cols), len(r.row)) - 1; i >= 0; i-- {
		if r.cols[i] == name {
			return r.row[i], true
		}
	}
	return "", false
}

// fieldMap returns the record's values by column name (a new map for a CSV
// record, which the caller may change).
func (r *record) fieldMap() map[string]string {
	if r.fields != nil || r.cols == nil {
		return r.fields
	}
	m := make(map[string]string, len(r.cols))
	for i, col := range r.cols {
		if i < len(r.row) {
			m[col] = r.row[i]
		}
	}
	return m
}

// recordReader yields records until io.EOF.
type recordReader interface {
	next() (record, error)
}

// recordWriter writes export records; columns are in property_map order.
type recordWriter interface {
	write(cols, vals []string) error
	// flush writes out what the writer buffers, so the output's size is
	// what has been written (a resumable download records it).
	flush() error
	// resume continues an output an earlier run began: its header or
	// prolog is there already.
	resume()
	close() error
}

// newDecoder returns a function converting bytes in encoding to UTF-8.
// Python codec names are accepted for the encodings real files use.
func newDecoder(encoding string) (func([]byte) (string, error), error) {
	switch strings.ReplaceAll(strings.ToLower(encoding), "_", "-") {
	case "", "utf-8", "utf8", "utf-8-sig":
		return func(b []byte) (string, error) {
			if !utf8.Valid(b) {
				return "", errors.New("the text is not valid UTF-8: set connector_options encoding (latin-1, cp1252, ascii)")
			}
			return string(b), nil
		}, nil
	case "ascii", "us-ascii":
		return func(b []byte) (string, error) {
			for _, c := range b {
				if c >= 0x80 {
					return "", fmt.Errorf("byte 0x%02x is not ASCII: set connector_options encoding", c)
				}
			}
			return string(b), nil
		}, nil
	case "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1":
		return func(b []byte) (string, error) { return mapBytes(b, nil), nil }, nil
	case "cp1252", "windows-1252":
		return func(b []byte) (string, error) { return mapBytes(b, &cp1252), nil }, nil
	}
	return nil, fmt.Errorf("encoding %q is not supported (supported: utf-8, utf-8-sig, ascii, latin-1, cp1252)", encoding)
}

// cp1252 maps bytes 0x80–0x9F; the rest are Latin-1.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

func mapBytes(b []byte, high *[32]rune) string {
	var s strings.Builder
	s.Grow(len(b))
	for _, c := range b {
		if high != nil && c >= 0x80 && c < 0xA0 {
			s.WriteRune(high[c-0x80])
		} else {
			s.WriteRune(rune(c))
		}
	}
	return s.String()
}

// newEncoder converts UTF-8 to encoding for export.
func newEncoder(encoding string) (func(string) ([]byte, error), error) {
	switch strings.ReplaceAll(strings.ToLower(encoding), "_", "-") {
	case "", "utf-8", "utf8":
		return func(s string) ([]byte, error) { return []byte(s), nil }, nil
	case "utf-8-sig":
		return func(s string) ([]byte, error) { return []byte(s), nil }, nil
	case "ascii", "us-ascii", "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "cp1252", "windows-1252":
		limit := rune(0xFF)
		if strings.Contains(encoding, "ascii") {
			limit = 0x7F
		}
		cp := strings.Contains(encoding, "1252")
		return func(s string) ([]byte, error) {
			out := make([]byte, 0, len(s))
			for _, r := range s {
				if cp {
					if i := indexRune(cp1252[:], r); i >= 0 {
						out = append(out, byte(0x80+i))
						continue
					}
				}
				if r > limit || (cp && r >= 0x80 && r < 0xA0) {
					return nil, fmt.Errorf("%q cannot be written in %s", r, encoding)
				}
				out = append(out, byte(r))
			}
			return out, nil
		}, nil
	}
	return nil, fmt.Errorf("encoding %q is not supported (supported: utf-8, utf-8-sig, ascii, latin-1, cp1252)", encoding)
}

func indexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// csvReader reads records with the config's columns and dialect.
type csvReader struct {
	r    *csv.Reader
	cols []string
	// checkUTF8 is set for UTF-8 input, which is not re-decoded: its
	// fields are checked instead, so a Latin-1 file read as UTF-8 fails
	// row by row with a hint rather than storing mangled text.
	checkUTF8 bool
	num       int
	skip      int   // extra records to skip (--has_header with a config)
	lastOff   int64 // input offset after the previous record, for its size
	// slab holds the fields of many records, each record's row a capped
	// slice of it: a slice per record was a tenth of a load's allocations.
	slab []string
}

// csvSlab is how many fields a csvReader's slab holds.
const csvSlab = 4096

// latin1 reading: the csv package needs UTF-8, so non-UTF-8 input is
// decoded as a whole stream first.
type decodingReader struct {
	r      *bufio.Reader
	decode func([]byte) (string, error)
	buf    []byte
	err    error
}

func (d *decodingReader) Read(p []byte) (int, error) {
	for len(d.buf) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		line, err := d.r.ReadBytes('\n')
		d.err = err
		if len(line) > 0 {
			s, derr := d.decode(line)
			if derr != nil {
				return 0, derr
			}
			d.buf = []byte(s)
		}
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

func newCSVReader(in io.Reader, o ConnectorOptions, hasHeader bool) (*csvReader, error) {
	dec, err := newDecoder(o.Encoding)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(in, 64<<10)
	// A UTF-8 byte order mark is not part of the first column's name.
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		_, _ = br.Discard(3)
	}
	var src io.Reader = br
	lowerEnc := strings.ToLower(o.Encoding)
	if !(lowerEnc == "" || strings.HasPrefix(lowerEnc, "utf")) {
		src = &decodingReader{r: br, decode: dec}
	}
	r := csv.NewReader(src)
	r.Comma = o.ImportOptions.Delimiter
	r.TrimLeadingSpace = o.ImportOptions.SkipInitialSpace
	r.FieldsPerRecord = -1
	r.LazyQuotes = true // as Python's csv, which accepts stray quotes
	// The reader's slice of fields is reused; next copies the fields
	// into a slab shared by many records (see csvReader.slab).
	r.ReuseRecord = true
	cr := &csvReader{r: r, checkUTF8: src == io.Reader(br)}
	if o.FromHeader {
		hdr, err := r.Read()
		if err == io.EOF {
			return nil, errors.New("the CSV file is empty: it needs a header row (columns: from_header)")
		}
		if err != nil {
			return nil, fmt.Errorf("reading the CSV header: %w", err)
		}
		cr.cols = slices.Clone(hdr) // the reader reuses hdr's array
	} else {
		cr.cols = o.ColumnList
		if o.SkipImportHeaderRow {
			if _, err := r.Read(); err != nil && err != io.EOF {
				return nil, fmt.Errorf("reading the CSV header: %w", err)
			}
		}
	}
	cr.lastOff = r.InputOffset()
	if hasHeader {
		cr.skip = 1
	}
	return cr, nil
}

func (c *csvReader) next() (record, error) {
	for {
		row, err := c.r.Read()
		if err == io.EOF {
			return record{}, io.EOF
		}
		off := c.r.InputOffset()
		size := int(off - c.lastOff)
		c.lastOff = off
		line := 0
		if err != nil {
			// Declared here: taking its address for errors.As moved
			// it to the heap, an allocation per record.
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return record{}, fmt.Errorf("reading CSV: %w", err)
			}
			line = pe.StartLine
		}
		if c.skip > 0 {
			c.skip--
			continue
		}
		c.num++
		rec := record{num: c.num, size: size}
		if err != nil {
			rec.line = line
			rec.err = err
			return rec, nil
		}
		rec.line, _ = c.r.FieldPos(0)
		if len(row) > len(c.cols) {
			rec.err = fmt.Errorf("Got more values in row than headers on line %d.", rec.line) //nolint:staticcheck // the legacy message
			return rec, nil
		}
		for i, col := range c.cols {
			if i < len(row) && c.checkUTF8 && !utf8.ValidString(row[i]) {
				rec.err = fmt.Errorf("column %s is not valid UTF-8: set connector_options encoding (latin-1, cp1252, ascii)", col)
				return rec, nil
			}
		}
		if cap(c.slab)-len(c.slab) < len(row) {
			c.slab = make([]string, 0, max(csvSlab, len(row)))
		}
		n := len(c.slab)
		c.slab = append(c.slab, row...)
		rec.cols, rec.row = c.cols, c.slab[n:len(c.slab):len(c.slab)]
		return rec, nil
	}
}

type csvWriter struct {
	w      *csv.Writer
	encode func(string) ([]byte, error)
	out    io.Writer
	header bool
	bom    bool // utf-8-sig: a byte order mark first
	wrote  bool
	buf    bytes.Buffer
}

func newCSVWriter(out io.Writer, o ConnectorOptions) (*csvWriter, error) {
	enc, err := newEncoder(o.Encoding)
	if err != nil {
		return nil, err
	}
	cw := &csvWriter{encode: enc, out: out, header: o.PrintExportHeaderRow, bom: strings.EqualFold(o.Encoding, "utf-8-sig")}
	cw.w = csv.NewWriter(&cw.buf)
	cw.w.Comma = o.ExportOptions.Delimiter
	cw.w.UseCRLF = o.ExportOptions.LineTerminator != "\n"
	return cw, nil
}

// begin writes what comes before the first record: a byte order mark and
// the header row.
func (c *csvWriter) begin(cols []string) error {
	if c.wrote {
		return nil
	}
	c.wrote = true
	if c.bom {
		if _, err := c.out.Write([]byte("\xEF\xBB\xBF")); err != nil {
			return err
		}
	}
	if c.header && cols != nil {
		return c.w.Write(cols)
	}
	return nil
}

func (c *csvWriter) resume() { c.wrote = true }

func (c *csvWriter) write(cols, vals []string) error {
	if err := c.begin(cols); err != nil {
		return err
	}
	if err := c.w.Write(vals); err != nil {
		return err
	}
	return c.flush()
}

func (c *csvWriter) flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	b, err := c.encode(c.buf.String())
	c.buf.Reset()
	if err != nil {
		return err
	}
	_, err = c.out.Write(b)
	return err
}

func (c *csvWriter) close() error {
	if err := c.begin(nil); err != nil { // an empty export still gets its mark
		return err
	}
	return c.flush()
}

// xmlReader streams the nodes at xpath_to_nodes.
type xmlReader struct {
	d     *xml.Decoder
	path  []string
	style string
	stack []string
	num   int
	skip  int
	data  []byte
}

func newXMLReader(in io.Reader, o ConnectorOptions, hasHeader bool) *xmlReader {
	d := xml.NewDecoder(bufio.NewReaderSize(in, 64<<10))
	d.Strict = true
	x := &xmlReader{d: d, path: strings.Split(strings.TrimPrefix(o.XPathToNodes, "/"), "/"), style: o.Style}
	if hasHeader {
		x.skip = 1
	}
	return x
}

func (x *xmlReader) atNode() bool {
	if len(x.stack) != len(x.path) {
		return false
	}
	for i := range x.path {
		if x.stack[i] != x.path[i] {
			return false
		}
	}
	return true
}

func (x *xmlReader) next() (record, error) {
	for {
		startOff := x.d.InputOffset()
		tok, err := x.d.Token()
		if err == io.EOF {
			return record{}, io.EOF
		}
		if err != nil {
			line, _ := x.d.InputPos()
			return record{}, fmt.Errorf("line %d: reading XML: %w", line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			x.stack = append(x.stack, t.Name.Local)
			if !x.atNode() {
				continue
			}
			line, _ := x.d.InputPos()
			fields := map[string]string{}
			if x.style == "attribute_centric" {
				for _, a := range t.Attr {
					fields[a.Name.Local] = a.Value
				}
				if err := x.d.Skip(); err != nil {
					return record{}, fmt.Errorf("line %d: reading XML: %w", line, err)
				}
			} else if err := x.children(fields); err != nil {
				return record{}, fmt.Errorf("line %d: reading XML: %w", line, err)
			}
			x.stack = x.stack[:len(x.stack)-1]
			if x.skip > 0 {
				x.skip--
				continue
			}
			x.num++
			return record{num: x.num, line: line, fields: fields, size: int(x.d.InputOffset() - startOff)}, nil
		case xml.EndElement:
			x.stack = x.stack[:len(x.stack)-1]
		}
	}
}

// children reads the child elements of the current node as fields.
func (x *xmlReader) children(fields map[string]string) error {
	for {
		tok, err := x.d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var text strings.Builder
			depth := 1
			for depth > 0 {
				tok, err := x.d.Token()
				if err != nil {
					return err
				}
				switch c := tok.(type) {
				case xml.StartElement:
					depth++
				case xml.EndElement:
					depth--
				case xml.CharData:
					if depth == 1 {
						text.Write(c)
					}
				}
			}
			fields[t.Name.Local] = text.String()
		case xml.EndElement:
			return nil
		}
	}
}

type xmlWriter struct {
	out   *bufio.Writer
	path  []string
	style string
	open  bool
}

func newXMLWriter(out io.Writer, o ConnectorOptions) *xmlWriter {
	return &xmlWriter{out: bufio.NewWriter(out), path: strings.Split(strings.TrimPrefix(o.XPathToNodes, "/"), "/"), style: o.Style}
}

func (x *xmlWriter) start() {
	if x.open {
		return
	}
	x.open = true
	x.out.WriteString("<?xml version=\"1.0\"?>\n")
	for _, p := range x.path[:len(x.path)-1] {
		x.out.WriteString("<" + p + ">\n")
	}
}

func (x *xmlWriter) write(cols, vals []string) error {
	x.start()
	node := x.path[len(x.path)-1]
	if x.style == "attribute_centric" {
		x.out.WriteString("<" + node)
		for i, c := range cols {
			x.out.WriteString(" " + c + "=\"")
			if err := xml.EscapeText(x.out, []byte(vals[i])); err != nil {
				return err
			}
			x.out.WriteString("\"")
		}
		x.out.WriteString("/>\n")
		return nil
	}
	x.out.WriteString("<" + node + ">\n")
	for i, c := range cols {
		x.out.WriteString("  <" + c + ">")
		if err := xml.EscapeText(x.out, []byte(vals[i])); err != nil {
			return err
		}
		x.out.WriteString("</" + c + ">\n")
	}
	x.out.WriteString("</" + node + ">\n")
	return nil
}

func (x *xmlWriter) resume() { x.open = true }

func (x *xmlWriter) flush() error { return x.out.Flush() }

func (x *xmlWriter) close() error {
	x.start()
	for i := len(x.path) - 2; i >= 0; i-- {
		x.out.WriteString("</" + x.path[i] + ">\n")
	}
	return x.out.Flush()
}

// textWriter is the simpletext connector (export only).
type textWriter struct {
	out     *bufio.Writer
	o       ConnectorOptions
	started bool
}

func (t *textWriter) begin() {
	if !t.started {
		t.started = true
		t.out.WriteString(t.o.Prolog)
	}
}

func (t *textWriter) write(cols, vals []string) error {
	t.begin()
	rec := make(map[string]string, len(cols))
	for i, c := range cols {
		rec[c] = vals[i]
	}
	s, err := pyFormat(t.o.Template, rec, false)
	if err != nil {
		return fmt.Errorf("simpletext template: %w", err)
	}
	t.out.WriteString(s)
	if t.o.Mode == "text" {
		t.out.WriteString("\n")
	}
	return nil
}

func (t *textWriter) resume() { t.started = true }

func (t *textWriter) flush() error { return t.out.Flush() }

func (t *textWriter) close() error {
	t.begin()
	t.out.WriteString(t.o.Epilog)
	return t.out.Flush()
}

// lineReader yields the lines of a JSON Lines file as records.
type lineReader struct {
	r    *bufio.Reader
	line int
	num  int
}

func (l *lineReader) next() (record, error) {
	for {
		b, err := l.r.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if err == io.EOF {
				return record{}, io.EOF
			}
			return record{}, err
		}
		l.line++
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		l.num++
		return record{num: l.num, line: l.line, raw: b, size: len(b)}, nil
	}
}
