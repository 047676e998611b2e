package bulkload

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/progress"
)

// maxPage bounds one query page whatever --batch_size says.
const maxPage = 1000

// Download exports entities to o.Filename: through the config's connector,
// or without a config as a JSON Lines dump of whole entities (every kind
// when o.Kind is ""). The output is written to a temporary file in the same
// directory and moved into place at the end; an existing output file is
// refused, never overwritten. With DryRun only the checks run.
//
// With o.ResultDBFilename the download is resumable: the temporary file is
// kept when the run fails or is interrupted, and the database records the
// key ranges written to it with the file's size after each (durably, every
// o.CheckpointEvery). A rerun with the same database and options cuts the
// file back to the last recorded size and continues after the last
// recorded key of each kind: no entity is written twice or left out.
func Download(ctx context.Context, ents backend.Entities, o Options) (sum Summary, err error) {
	start := time.Now()
	defer func() { sum.Duration = time.Since(start) }()
	if err := o.check(); err != nil {
		return sum, err
	}
	var tr *Transformer
	if o.Config != nil {
		if o.Kind == "" {
			return sum, errors.New("kind argument required for this operation")
		}
		if tr, err = o.Config.Transformer(o.Kind); err != nil {
			return sum, err
		}
	}
	if _, err := os.Lstat(o.Filename); err == nil {
		return sum, fmt.Errorf("%s: output file exists: download_data never overwrites; remove it or choose another --filename", o.Filename)
	}
	dir := filepath.Dir(o.Filename)
	if o.DryRun {
		tmp, err := os.CreateTemp(dir, "."+filepath.Base(o.Filename)+".*.tmp")
		if err != nil {
			return sum, fmt.Errorf("%s: not writable: %w", dir, err)
		}
		tmp.Close()
		return sum, os.Remove(tmp.Name())
	}
	if ents == nil {
		return sum, errors.New("no backend to download from")
	}
	var rdb *resultDB
	if o.ResultDBFilename != "" && o.ResultDBFilename != "skip" {
		if rdb, err = openResultDB(ctx, o.ResultDBFilename, o.Signature(true)); err != nil {
			return sum, err
		}
		defer func() {
			if cerr := rdb.close(); cerr != nil && err == nil {
				err = fmt.Errorf("closing the result database: %w", cerr)
			}
		}()
	}
	st, err := rdb.state(ctx)
	if err != nil {
		return sum, err
	}
	tmp, err := openPartial(ctx, rdb, st, o.Filename)
	if err != nil {
		return sum, err
	}
	sum.Previously, sum.Total = st.entities, st.entities
	done := false
	defer func() {
		if done {
			return
		}
		tmp.Close()
		if rdb == nil {
			os.Remove(tmp.Name())
		} else {
			sum.Partial = tmp.Name()
		}
	}()
	rep := progress.Or(o.Progress)
	rep.Phase("downloading", 0, 0)
	defer rep.Phase("", 0, 0)
	cw := &countingWriter{w: tmp, n: st.offset}
	var w recordWriter
	var cols []string
	if tr != nil {
		cols = tr.exportColumns()
		switch tr.Connector {
		case "csv":
			if w, err = newCSVWriter(cw, tr.Options); err != nil {
				return sum, fmt.Errorf("%s:%d: %w", o.Config.File, tr.Line, err)
			}
		case "simplexml":
			w = newXMLWriter(cw, tr.Options)
		case "simpletext":
			w = &textWriter{out: bufio.NewWriter(cw), o: tr.Options}
		}
	} else {
		w = &dumpWriter{out: bufio.NewWriterSize(cw, 64<<10)}
	}
	if st.offset > 0 {
		w.resume()
	}
	kinds := []string{o.Kind}
	if o.Kind == "" {
		if kinds, err = ents.Kinds(ctx, o.App, o.Namespace); err != nil {
			return sum, fmt.Errorf("listing the kinds of %s: %w", o.App, err)
		}
	}
	every := o.CheckpointEvery
	if every <= 0 {
		every = time.Second
	}
	base := cw.n
	// The bar's bytes are what reached the output, as the summary's.
	reported := base
	report := func(entities int64) {
		rep.Add(entities, cw.n-reported)
		reported = cw.n
	}
	var pending keyRange // written since the last checkpoint
	lastCheck := time.Now()
	// checkpoint makes the output durable up to what was written and
	// then records it: a crash between the two only loses the record,
	// and the resume cuts the file back to the previous one.
	checkpoint := func(kind, cursor string, kindDone bool) error {
		if rdb == nil {
			return nil
		}
		if err := w.flush(); err != nil {
			return fmt.Errorf("writing %s: %w", o.Filename, err)
		}
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("writing %s: %w", o.Filename, err)
		}
		pending.kind, pending.cursor, pending.done, pending.offset = kind, cursor, kindDone, cw.n
		if err := rdb.record(context.WithoutCancel(ctx), pending); err != nil {
			return err
		}
		pending, lastCheck = keyRange{}, time.Now()
		report(0)
		return nil
	}
	thr := newThrottle(o)
	page := min(o.BatchSize, maxPage)

	for _, kind := range kinds {
		ks := st.kinds[kind]
		if ks.done {
			continue
		}
		cursor := ks.cursor
		for {
			if err := thr.request(ctx, page, 0); err != nil {
				return sum, err
			}
			list, next, err := ents.QueryEntities(ctx, o.App, backend.EntityQuery{Namespace: o.Namespace, Kind: kind}, cursor, page)
			if err != nil {
				return sum, fmt.Errorf("reading kind %s of %s: %w", kind, o.App, err)
			}
			for _, e := range list {
				if tr != nil {
					vals, err := tr.exportEntity(e)
					if err != nil {
						return sum, fmt.Errorf("exporting %s: %w", keyString(e.Key), err)
					}
					err = w.write(cols, vals)
					if err != nil {
						return sum, fmt.Errorf("writing %s: %w", o.Filename, err)
					}
				} else if err := w.(*dumpWriter).entity(e); err != nil {
					return sum, fmt.Errorf("writing %s: %w", o.Filename, err)
				}
				if pending.entities == 0 {
					pending.start = keyString(e.Key)
				}
				pending.end = keyString(e.Key)
				pending.entities++
				sum.Total++
				sum.Loaded++
				report(1)
			}
			if next == "" {
				if err := checkpoint(kind, "", true); err != nil {
					return sum, err
				}
				break
			}
			if next == cursor {
				return sum, fmt.Errorf("reading kind %s: the backend returned the same cursor twice", kind)
			}
			cursor = next
			if time.Since(lastCheck) >= every {
				if err := checkpoint(kind, cursor, false); err != nil {
					return sum, err
				}
			}
		}
	}
	if err := w.close(); err != nil {
		return sum, fmt.Errorf("writing %s: %w", o.Filename, err)
	}
	report(0)
	sum.Bytes = cw.n - base
	if err := tmp.Sync(); err != nil {
		return sum, fmt.Errorf("writing %s: %w", o.Filename, err)
	}
	if err := tmp.Close(); err != nil {
		return sum, fmt.Errorf("writing %s: %w", o.Filename, err)
	}
	if err := placeFile(tmp.Name(), o.Filename); err != nil {
		return sum, err
	}
	done = true
	return sum, nil
}

// openPartial opens the output's temporary file: the one an earlier run
// recorded, cut back to the size recorded with its last range, or a new
// one, recorded before anything is written to it.
func openPartial(ctx context.Context, rdb *resultDB, st resumeState, output string) (*os.File, error) {
	if st.partial != "" {
		f, err := os.OpenFile(st.partial, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("the partial download %s that %s records cannot be opened (%w): start over with another --result_db_filename", st.partial, rdb.path, err)
		}
		fi, err := f.Stat()
		if err == nil && fi.Size() < st.offset {
			err = fmt.Errorf("it has %d bytes, %d were recorded", fi.Size(), st.offset)
		}
		if err == nil {
			err = f.Truncate(st.offset)
		}
		if err == nil {
			_, err = f.Seek(st.offset, io.SeekStart)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("the partial download %s that %s records cannot be resumed (%w): start over with another --result_db_filename", st.partial, rdb.path, err)
		}
		return f, nil
	}
	dir := filepath.Dir(output)
	f, err := os.CreateTemp(dir, "."+filepath.Base(output)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("%s: not writable: %w", dir, err)
	}
	abs, err := filepath.Abs(f.Name())
	if err == nil {
		err = rdb.setPartial(ctx, abs)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// placeFile moves tmp to dst unless dst appeared meanwhile: a hard link
// fails when dst exists, where a rename would replace it.
func placeFile(tmp, dst string) error {
	err := os.Link(tmp, dst)
	if err == nil {
		return os.Remove(tmp)
	}
	if _, serr := os.Lstat(dst); serr == nil {
		return fmt.Errorf("%s: output file exists (created while downloading); the download is in %s", dst, tmp)
	}
	// No hard links on this file system: a rename, checked just before.
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("moving the download into %s: %w", dst, err)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// dumpWriter writes the JSON Lines dump.
type dumpWriter struct{ out *bufio.Writer }

func (d *dumpWriter) entity(e backend.Entity) error {
	b, err := MarshalEntity(e)
	if err != nil {
		return err
	}
	d.out.Write(b)
	return d.out.WriteByte('\n')
}

func (d *dumpWriter) write([]string, []string) error {
	return errors.New("the dump format writes entities, not records")
}

func (d *dumpWriter) flush() error { return d.out.Flush() }

func (d *dumpWriter) resume() {}

func (d *dumpWriter) close() error { return d.out.Flush() }
