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
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(o.Filename)+".*.tmp")
	if err != nil {
		return sum, fmt.Errorf("%s: not writable: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if o.DryRun {
		return sum, nil
	}
	if ents == nil {
		return sum, errors.New("no backend to download from")
	}
	rep := progress.Or(o.Progress)
	rep.Phase("downloading", 0, 0)
	defer rep.Phase("", 0, 0)
	cw := &countingWriter{w: tmp}
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
	kinds := []string{o.Kind}
	if o.Kind == "" {
		if kinds, err = ents.Kinds(ctx, o.App, o.Namespace); err != nil {
			return sum, fmt.Errorf("listing the kinds of %s: %w", o.App, err)
		}
	}
	thr := newThrottle(o)
	page := min(o.BatchSize, maxPage)
	for _, kind := range kinds {
		cursor := ""
		for {
			if err := thr.request(ctx, page, 0); err != nil {
				return sum, err
			}
			list, next, err := ents.QueryEntities(ctx, o.App, backend.EntityQuery{Namespace: o.Namespace, Kind: kind}, cursor, page)
			if err != nil {
				return sum, fmt.Errorf("reading kind %s of %s: %w", kind, o.App, err)
			}
			for _, e := range list {
				before := cw.n
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
				sum.Total++
				sum.Loaded++
				rep.Add(1, cw.n-before)
			}
			if next == "" {
				break
			}
			if next == cursor {
				return sum, fmt.Errorf("reading kind %s: the backend returned the same cursor twice", kind)
			}
			cursor = next
		}
	}
	before := cw.n
	if err := w.close(); err != nil {
		return sum, fmt.Errorf("writing %s: %w", o.Filename, err)
	}
	rep.Add(0, cw.n-before) // a connector's epilog: the bar's bytes are the summary's
	sum.Bytes = cw.n
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

func (d *dumpWriter) close() error { return d.out.Flush() }
