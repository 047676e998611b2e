package logs

import (
	"context"
	"fmt"
	"io"

	"github.com/appcfg/appcfg/backend"
)

// bufSize is the size of the blocks handed to the writer: large enough that
// writes cost little, small enough that memory stays flat.
const bufSize = 256 << 10

// stream reads the logs of q and writes their lines to w. Lines are
// formatted as the reader hands logs over (the backend reads ahead in a
// goroutine of its own) and written by another goroutine, so reading,
// formatting and writing overlap. Three blocks circulate between the two,
// so memory is the same for a thousand logs or a billion.
func stream(ctx context.Context, r backend.LogReader, q backend.LogQuery, opts Options, resume *resumePoint, w io.Writer) (Result, error) {
	blocks, freeBlocks := make(chan []byte, 2), make(chan []byte, 3)
	for range 3 {
		freeBlocks <- make([]byte, 0, bufSize+bufSize/4)
	}
	werr := make(chan error, 1)
	go func() { werr <- writeBlocks(w, blocks, freeBlocks) }()

	var res Result
	fm := newFormatter(opts.Format)
	sk := newSkipper(resume, fm)
	buf := <-freeBlocks
	readErr := r.ReadLogs(ctx, q, func(l backend.RequestLog) error {
		if !matchesVHost(l.Host, opts.VHost) {
			return nil
		}
		if sk != nil {
			if sk.add(&l) {
				return nil // still inside the second the file ends with
			}
			buf = sk.emit(buf, &res, opts.Status)
			sk = nil
		}
		var lines int
		buf, lines = fm.appendLog(buf, &l)
		res.Requests++
		res.Lines += lines
		if len(buf) < bufSize {
			return nil
		}
		select {
		case blocks <- buf:
		case <-ctx.Done():
			return ctx.Err()
		}
		buf = <-freeBlocks
		return nil
	})
	if readErr == nil {
		if sk != nil {
			// The listing ended inside the second the file ends with.
			buf = sk.emit(buf, &res, opts.Status)
		}
		if len(buf) > 0 {
			blocks <- buf
		}
	}
	close(blocks)
	err := <-werr
	if readErr != nil {
		return res, fmt.Errorf("downloading request logs of app %s: %w", q.App, readErr)
	}
	if err != nil {
		return res, fmt.Errorf("Can't write '%s': %w.", opts.Output, err)
	}
	return res, nil
}

// writeBlocks writes each block to w and hands it back, returning the first
// error; after one it keeps taking blocks so the formatter never blocks.
func writeBlocks(w io.Writer, blocks <-chan []byte, freeBlocks chan<- []byte) error {
	var err error
	for b := range blocks {
		if err == nil {
			_, err = w.Write(b)
		}
		freeBlocks <- b[:0] // never blocks: it holds every block
	}
	return err
}
