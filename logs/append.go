package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// tailBlock is how much of the file is read at a time, from its end.
const tailBlock = 64 << 10

// resumePoint is where an --append download continues: after the newest
// request line of the file (the legacy tool's sentinel), which is the
// count-th request line of its second.
type resumePoint struct {
	sentinel string // the newest request line, without its newline
	stamp    string // its timestamp field, "[02/Jan/2006:15:04:05 -0700]"
	sec      int64  // its second, Unix time
	count    int    // request lines of the file in that second
}

// findResume reads the end of the file backwards for the resume point. why
// says, in the legacy tool's words, why append mode is off; both are empty
// for an empty file.
func findResume(path string) (rp *resumePoint, why string) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Sprintf("Append mode disabled: can't read '%s': %v.", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Sprintf("Append mode disabled: can't read '%s': %v.", path, err)
	}
	if st.Size() == 0 {
		return nil, ""
	}
	err = scanLinesBackward(f, st.Size(), func(line []byte) bool {
		if len(line) == 0 || line[0] == '\t' {
			return true
		}
		stamp, sec, ok := lineTime(line)
		if !ok {
			return true // the legacy tool drops lines without a date
		}
		if rp == nil {
			rp = &resumePoint{sentinel: string(line), stamp: stamp, sec: sec}
		}
		if stamp != rp.stamp {
			return false
		}
		rp.count++
		return true
	})
	if err != nil {
		return nil, fmt.Sprintf("Append mode disabled: can't read '%s': %v.", path, err)
	}
	if rp == nil {
		return nil, fmt.Sprintf("Append mode disabled: can't find sentinel in '%s'.", path)
	}
	return rp, ""
}

// scanLinesBackward calls visit with each line of f, last first, until
// visit returns false. A last line without a newline counts as a line.
// Memory is one block plus the longest line.
func scanLinesBackward(f io.ReaderAt, size int64, visit func([]byte) bool) error {
	var carry []byte // the start of a line whose beginning is in an earlier block
	off := size
	for off > 0 {
		n := min(int64(tailBlock), off)
		off -= n
		block := make([]byte, n, int(n)+len(carry))
		if _, err := f.ReadAt(block, off); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		buf := append(block, carry...)
		if off == size-n && len(buf) > 0 && buf[len(buf)-1] == '\n' {
			buf = buf[:len(buf)-1] // the file's final newline ends the last line
		}
		for {
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 {
				break
			}
			if !visit(buf[i+1:]) {
				return nil
			}
			buf = buf[:i]
		}
		carry = append([]byte(nil), buf...)
	}
	visit(carry)
	return nil
}

// lineTime finds a request line's timestamp field as the legacy tool did
// (the first "[dd/Mon/yyyy:"), and its second.
func lineTime(line []byte) (stamp string, sec int64, ok bool) {
	i := bytes.IndexByte(line, '[')
	if i < 0 {
		return "", 0, false
	}
	j := bytes.IndexByte(line[i:], ']')
	if j < 0 {
		return "", 0, false
	}
	stamp = string(line[i : i+j+1])
	t, err := time.Parse("[02/Jan/2006:15:04:05 -0700]", stamp)
	if err != nil {
		return "", 0, false
	}
	return stamp, t.Unix(), true
}

// skipper holds back the logs of the resume second until it can tell which
// of them the file already has. It keeps only that second's logs.
type skipper struct {
	rp   *resumePoint
	fm   *formatter
	held []heldLog
}

// heldLog is a log of the resume second and its formatted text.
type heldLog struct {
	text []byte
	log  backend.RequestLog
}

func newSkipper(rp *resumePoint, fm *formatter) *skipper {
	if rp == nil {
		return nil
	}
	return &skipper{rp: rp, fm: fm}
}

// add takes l if it lies in the resume second, and reports whether it did.
// Logs arrive oldest first, from the start of that second.
func (s *skipper) add(l *backend.RequestLog) bool {
	if l.Time.Unix() != s.rp.sec {
		return false
	}
	text, _ := s.fm.appendLog(nil, l)
	s.held = append(s.held, heldLog{text: text, log: *l})
	return true
}

// emit appends the held logs the file lacks to buf, counting them in res.
func (s *skipper) emit(buf []byte, res *Result, status io.Writer) []byte {
	s.each(status, func(h *heldLog) error {
		buf = append(buf, h.text...)
		res.Requests++
		res.Lines += bytes.Count(h.text, []byte{'\n'})
		return nil
	})
	return buf
}

// each hands fn the held logs the output lacks, oldest first. The output
// normally holds the first count of them, the last being the sentinel; if
// it does not (the file was written with other options or edited), the logs
// after the last line equal to the sentinel are kept, and when none is
// equal all are kept and a warning goes to status.
func (s *skipper) each(status io.Writer, fn func(*heldLog) error) error {
	if len(s.held) == 0 {
		return nil // nothing at or after the file's last second
	}
	skip := -1
	if c := s.rp.count; c <= len(s.held) && requestLine(s.held[c-1].text) == s.rp.sentinel {
		skip = c
	} else {
		for i := len(s.held) - 1; i >= 0; i-- {
			if requestLine(s.held[i].text) == s.rp.sentinel {
				skip = i + 1
				break
			}
		}
	}
	if skip < 0 {
		skip = 0
		if status != nil {
			fmt.Fprintf(status, "Append mode: the file's last request line (%s) was not found in the logs; appending every log from %s on.\n",
				s.rp.stamp, s.rp.stamp)
		}
	}
	for i := range s.held[skip:] {
		if err := fn(&s.held[skip+i]); err != nil {
			return err
		}
	}
	return nil
}

func requestLine(text []byte) string {
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return string(text)
}

// resumeTracker keeps the resume point of lines as they are written, oldest
// first: the forward reading of findResume's rule (the newest request line
// is the sentinel; request lines with its timestamp are counted; tab lines
// and lines without a date do not count). --follow polls with it where
// --append reads the file.
type resumeTracker struct {
	rp      *resumePoint // the point of the lines before last; nil for none
	last    []byte       // the newest request line so far
	stamp   []byte       // its timestamp field
	sec     int64
	count   int
	partial []byte // a line whose newline has not been written yet
}

func newResumeTracker(rp *resumePoint) *resumeTracker {
	t := &resumeTracker{}
	if rp != nil {
		t.last, t.stamp, t.sec, t.count = []byte(rp.sentinel), []byte(rp.stamp), rp.sec, rp.count
	}
	return t
}

func (t *resumeTracker) clone() *resumeTracker {
	c := *t
	c.last = append([]byte(nil), t.last...)
	c.stamp = append([]byte(nil), t.stamp...)
	c.partial = append([]byte(nil), t.partial...)
	return &c
}

// point returns the resume point after everything observed; nil before
// the first request line.
func (t *resumeTracker) point() *resumePoint {
	if t.count == 0 {
		return nil
	}
	return &resumePoint{sentinel: string(t.last), stamp: string(t.stamp), sec: t.sec, count: t.count}
}

// observe reads written bytes.
func (t *resumeTracker) observe(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.partial = append(t.partial, p...)
			return
		}
		line := p[:i]
		if len(t.partial) > 0 {
			t.partial = append(t.partial, line...)
			line = t.partial
		}
		t.line(line)
		t.partial = t.partial[:0]
		p = p[i+1:]
	}
}

func (t *resumeTracker) line(line []byte) {
	if len(line) == 0 || line[0] == '\t' {
		return
	}
	// Most lines share their second with the one before: compare the
	// field before parsing it.
	if i := bytes.IndexByte(line, '['); i >= 0 && t.count > 0 && bytes.HasPrefix(line[i:], t.stamp) {
		t.count++
		t.last = append(t.last[:0], line...)
		return
	}
	stamp, sec, ok := lineTime(line)
	if !ok {
		return
	}
	t.last = append(t.last[:0], line...)
	t.stamp = append(t.stamp[:0], stamp...)
	t.sec, t.count = sec, 1
}

// trackingWriter writes to w and shows the tracker what was written.
type trackingWriter struct {
	w io.Writer
	t *resumeTracker
}

func (tw trackingWriter) Write(p []byte) (int, error) {
	n, err := tw.w.Write(p)
	tw.t.observe(p[:n])
	return n, err
}
