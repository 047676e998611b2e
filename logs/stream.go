package logs

import (
	"context"
	"fmt"
	"io"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
)

// bufSize is the size of the blocks handed to the writer: large enough that
// writes cost little, small enough that memory stays flat. A block's
// capacity, blockCap, leaves room for the line that crosses bufSize.
const (
	bufSize  = 256 << 10
	blockCap = bufSize + bufSize/4
)

// stream reads the logs of q and writes their lines to w. Lines are
// formatted as the reader hands logs over (the backend reads ahead in a
// goroutine of its own) and written by another goroutine, so reading,
// formatting and writing overlap. Three blocks circulate between the two,
// so memory is the same for a thousand logs or a billion. A reader that
// hands over lines (backend.LogLineReader) is asked for StoredLines, when
// those are the lines asked for: it copies those it keeps ready; one that hands logs over in blocks
// (backend.LogBlockReader) is read that way, the formatter then escaping each
// distinct value once per block.
func stream(ctx context.Context, r backend.LogReader, q backend.LogQuery, opts Options, resume *resumePoint, w io.Writer) (Result, error) {
	blocks, freeBlocks := make(chan outItem, 2), make(chan []byte, 3)
	for range 3 {
		// Made when lines are first formatted into it (grow): a download
		// that copies stored lines needs none, and each page of one
		// costs a fault to touch.
		freeBlocks <- nil
	}
	werr := make(chan error, 1)
	go func() {
		var perr error
		defer func() {
			if perr != nil {
				// A bug: give back a block the panic may have held and
				// keep taking blocks, so the formatter finishes and
				// meets the error.
				select {
				case freeBlocks <- nil:
				default:
				}
				for it := range blocks {
					if it.done != nil {
						it.done <- nil
						continue
					}
					freeBlocks <- it.b[:0]
				}
				werr <- perr
			}
		}()
		defer crash.Recover(&perr)
		werr <- writeBlocks(w, blocks, freeBlocks)
	}()

	fm := newFormatter(opts.Format)
	s := &streamer{ctx: ctx, fm: fm, vhost: opts.VHost, status: opts.Status, sk: newSkipper(resume, fm),
		blocks: blocks, freeBlocks: freeBlocks, buf: <-freeBlocks}
	var readErr error
	lr, hasLines := r.(backend.LogLineReader)
	if hasLines && opts.Format.plainLines() && opts.VHost == "" && s.sk == nil {
		// The lines are the store's own: copy them.
		readErr = lr.ReadLogLines(ctx, q, StoredLines(), s.addLines)
	} else if br, ok := r.(backend.LogBlockReader); ok {
		bf := newBlockFormatter(fm, opts.VHost)
		readErr = br.ReadLogBlocks(ctx, q, func(bl *backend.LogBlock) error { return s.addBlock(bf, bl) })
	} else {
		readErr = r.ReadLogs(ctx, q, func(l backend.RequestLog) error { return s.add(&l) })
	}
	if readErr == nil {
		if s.sk != nil {
			// The listing ended inside the second the file ends with.
			s.buf = s.sk.emit(s.buf, &s.res, opts.Status)
		}
		if len(s.buf) > 0 {
			blocks <- outItem{b: s.buf}
		}
	}
	close(blocks)
	err := <-werr
	if readErr != nil {
		return s.res, fmt.Errorf("downloading request logs of app %s: %w", q.App, readErr)
	}
	if err != nil {
		return s.res, outputError{fmt.Errorf("Can't write '%s': %w.", opts.Output, err)}
	}
	return s.res, nil
}

// streamer is the formatting side of stream.
type streamer struct {
	ctx        context.Context
	fm         *formatter
	vhost      string
	status     io.Writer
	sk         *skipper // nil once past the resume point
	blocks     chan<- outItem
	freeBlocks <-chan []byte
	buf        []byte
	res        Result
}

// add formats one log.
func (s *streamer) add(l *backend.RequestLog) error {
	if !matchesVHost(l.Host, s.vhost) {
		return nil
	}
	s.grow()
	if s.sk != nil {
		if s.sk.add(l) {
			return nil // still inside the second the file ends with
		}
		s.buf = s.sk.emit(s.buf, &s.res, s.status)
		s.sk = nil
	}
	var lines int
	s.buf, lines = s.fm.appendLog(s.buf, l)
	s.res.Requests++
	s.res.Lines += lines
	return s.flush()
}

// addBlock formats a block of logs: one by one while resuming, then with
// the block formatter.
func (s *streamer) addBlock(bf *blockFormatter, bl *backend.LogBlock) error {
	i := 0
	for ; i < len(bl.Records) && s.sk != nil; i++ {
		l := bl.Log(i)
		if err := s.add(&l); err != nil {
			return err
		}
	}
	if i == len(bl.Records) {
		return nil
	}
	bf.prepare(bl)
	defer bf.done()
	for ; i < len(bl.Records); i++ {
		if !bf.keep(&bl.Records[i]) {
			continue
		}
		var lines int
		s.grow()
		s.buf, lines = bf.appendRecord(s.buf, bl, i)
		s.res.Requests++
		s.res.Lines += lines
		if err := s.flush(); err != nil {
			return err
		}
	}
	return nil
}

// addLines writes a run of n ready lines. The writer copies them after
// what is buffered, and addLines waits for it: the reader is valid only
// during the call. From a file to a file, the copy stays in the kernel.
func (s *streamer) addLines(lines io.Reader, n int) error {
	s.res.Requests += n
	s.res.Lines += n
	if len(s.buf) > 0 {
		if err := s.send(); err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	select {
	case s.blocks <- outItem{r: lines, done: done}:
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
	// The writer always answers, even after a write error (it then
	// reports that error at the end), so this cannot wait forever.
	return <-done
}

// grow gives the buffer its capacity, if it has none yet.
func (s *streamer) grow() {
	if s.buf == nil {
		s.buf = make([]byte, 0, blockCap)
	}
}

// flush hands a full buffer to the writer.
func (s *streamer) flush() error {
	if len(s.buf) < bufSize {
		return nil
	}
	return s.send()
}

// send hands the buffer to the writer and takes a free one.
func (s *streamer) send() error {
	select {
	case s.blocks <- outItem{b: s.buf}:
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
	s.buf = <-s.freeBlocks
	return nil
}

// outItem is what the writer writes next: a block of formatted lines (b),
// to hand back once written, or lines to copy from r, answering on done.
type outItem struct {
	b    []byte
	r    io.Reader
	done chan<- error
}

// writeBlocks writes each block to w and hands it back, returning the first
// error; after one it keeps taking blocks so the formatter never blocks.
func writeBlocks(w io.Writer, blocks <-chan outItem, freeBlocks chan<- []byte) error {
	var err error
	for it := range blocks {
		if it.done != nil {
			if err == nil {
				_, err = io.Copy(w, it.r)
			}
			it.done <- nil // the write error is reported once, at the end
			continue
		}
		if err == nil {
			_, err = w.Write(it.b)
		}
		freeBlocks <- it.b[:0] // never blocks: it holds every block
	}
	return err
}
