package local

import (
	"container/heap"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
	"unsafe"

	"github.com/appcfg/appcfg/backend"
)

const (
	// maxChunkLogs bounds the records of one chunk, and so the memory a
	// reader holds per chunk it has open.
	maxChunkLogs = 1000
	// maxChunkSpan bounds the time one chunk covers, so a reader starting
	// at time T finds every chunk that may hold T among those that begin
	// after T-maxChunkSpan: the index on min_time then answers it.
	maxChunkSpan = int64(time.Hour)
	// chunkPage is how many chunk descriptions one query returns.
	chunkPage = 256
)

// WriteLogs records logs of app in one transaction. The batch is sorted by
// time, given IDs from the app's sequence in that order, grouped by service
// version and cut into chunks.
func (b *Backend) WriteLogs(ctx context.Context, app string, logs []backend.RequestLog) error {
	if err := checkName("application id", app); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("recording request logs: %w", err)
	}
	if len(logs) == 0 {
		return nil
	}
	order := make([]int, len(logs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return logs[order[i]].Time.Before(logs[order[j]].Time) })
	return b.update(ctx, "recording request logs of app "+app, func(tx *sql.Tx) error {
		appID, err := ensureApp(ctx, tx, app)
		if err != nil {
			return err
		}
		var next int64
		err = tx.QueryRowContext(ctx, `
INSERT INTO log_seq (app_id, next) VALUES (?, ?)
ON CONFLICT (app_id) DO UPDATE SET next = next + excluded.next RETURNING next`, appID, len(logs)).Scan(&next)
		if err != nil {
			return dbErr(ctx, "numbering request logs", err)
		}
		first := next - int64(len(logs))
		stmt, err := tx.PrepareContext(ctx, `
INSERT INTO log_chunks (app_id, service, version, min_time, max_time, first_seq, count, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return dbErr(ctx, "recording request logs", err)
		}
		defer stmt.Close()
		for _, c := range cutChunks(logs, order, first) {
			if _, err := stmt.ExecContext(ctx, appID, c.service, c.version, c.minTime, c.maxTime, c.firstSeq, c.count, c.data); err != nil {
				return dbErr(ctx, "recording request logs", err)
			}
		}
		return nil
	})
}

// chunk is one encoded run of records of a service version.
type chunk struct {
	service, version string
	minTime, maxTime int64
	firstSeq         int64
	count            int
	data             []byte
}

// cutChunks groups the logs, visited in order (sorted by time) and numbered
// from first on, by service version, cutting a chunk when it is full or
// would span more than maxChunkSpan.
func cutChunks(logs []backend.RequestLog, order []int, first int64) []chunk {
	type key struct{ service, version string }
	open := map[key]*chunk{}
	var done []chunk
	var keys []key // first-use order, so the output is deterministic
	for n, i := range order {
		l := &logs[i]
		service := l.Service
		if service == "" {
			service = "default"
		}
		k := key{service, l.Version}
		seq, t := first+int64(n), l.Time.UnixNano()
		c := open[k]
		if c != nil && (c.count == maxChunkLogs || t-c.minTime > maxChunkSpan) {
			done = append(done, *c)
			c = nil
		}
		if c == nil {
			if _, seen := open[k]; !seen {
				keys = append(keys, k)
			}
			c = &chunk{service: k.service, version: k.version, minTime: t, firstSeq: seq}
			open[k] = c
		}
		c.data = appendRecord(c.data, l, t-c.minTime, seq-c.firstSeq)
		c.maxTime = t
		c.count++
	}
	for _, k := range keys {
		done = append(done, *open[k])
	}
	return done
}

// appendRecord encodes one record: its time and sequence number relative to
// the chunk's first, then its fields. Service, version and app are the
// chunk's.
func appendRecord(b []byte, l *backend.RequestLog, dt, dseq int64) []byte {
	b = binary.AppendUvarint(b, uint64(dt))
	b = binary.AppendUvarint(b, uint64(dseq))
	for _, s := range [...]string{l.IP, l.Method, l.Resource, l.HTTPVersion, l.Referrer, l.UserAgent, l.Host} {
		b = appendLogString(b, s)
	}
	b = binary.AppendVarint(b, int64(l.Status))
	b = binary.AppendVarint(b, l.Bytes)
	b = binary.AppendVarint(b, int64(l.Latency))
	b = binary.AppendUvarint(b, uint64(len(l.AppLogs)))
	for _, a := range l.AppLogs {
		b = binary.AppendVarint(b, a.Time.UnixNano()-l.Time.UnixNano())
		b = binary.AppendVarint(b, int64(a.Level))
		b = appendLogString(b, a.Message)
	}
	return b
}

func appendLogString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// logDecoder reads records back. Strings are cut from one string holding the
// whole chunk, so decoding a record allocates only its ID and app logs.
type logDecoder struct {
	s   string
	pos int
	err error
}

func (d *logDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := uvarintString(d.s[d.pos:])
	if n <= 0 {
		d.err = errors.New("truncated record")
		return 0
	}
	d.pos += n
	return v
}

func (d *logDecoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *logDecoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.pos) {
		d.err = errors.New("truncated string")
		return ""
	}
	s := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

// uvarintString is binary.Uvarint over a string, sparing a copy.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// logKey is a log's place in the listing order.
type logKey struct{ t, seq int64 }

func (k logKey) less(o logKey) bool { return k.t < o.t || (k.t == o.t && k.seq < o.seq) }

// cursor decodes the records of one open chunk one at a time, skipping
// those outside the query; head is the next record to hand out.
type cursor struct {
	app  string
	m    chunkMeta
	d    logDecoder
	left int // records not yet decoded
	head backend.RequestLog
	key  logKey
	// Bounds of the query.
	lo, hi int64
	after  logKey
}

// next decodes the next record in bounds into head; false at the end.
func (c *cursor) next() (bool, error) {
	for c.left > 0 {
		c.left--
		d := &c.d
		t := c.m.minTime + int64(d.uvarint())
		seq := c.m.firstSeq + int64(d.uvarint())
		c.head = backend.RequestLog{
			Time: time.Unix(0, t), App: c.app, Service: c.m.service, Version: c.m.version,
			IP: d.str(), Method: d.str(), Resource: d.str(), HTTPVersion: d.str(),
			Referrer: d.str(), UserAgent: d.str(), Host: d.str(),
		}
		c.head.Status = int(d.varint())
		c.head.Bytes = d.varint()
		c.head.Latency = time.Duration(d.varint())
		if n := d.uvarint(); n > 0 && d.err == nil {
			if n > uint64(len(d.s)) {
				return false, fmt.Errorf("the stored request logs are damaged (chunk %d): bad app log count", c.m.id)
			}
			c.head.AppLogs = make([]backend.AppLogLine, n)
			for j := range c.head.AppLogs {
				at := t + d.varint()
				c.head.AppLogs[j] = backend.AppLogLine{Time: time.Unix(0, at), Level: backend.Severity(d.varint()), Message: d.str()}
			}
		}
		if d.err != nil {
			return false, fmt.Errorf("the stored request logs are damaged (chunk %d, record %d): %w", c.m.id, c.m.count-c.left-1, d.err)
		}
		c.key = logKey{t, seq}
		if t < c.lo || t >= c.hi || !c.after.less(c.key) {
			continue
		}
		c.head.ID = formatLogID(seq)
		return true, nil
	}
	return false, nil
}

// formatLogID writes a sequence number as a fixed-width hex ID, so IDs of
// one Time also sort as strings.
func formatLogID(seq int64) string {
	var b [16]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = "0123456789abcdef"[seq&15]
		seq >>= 4
	}
	return string(b[:])
}

func parseLogID(id string) (int64, error) {
	seq, err := strconv.ParseUint(id, 16, 63)
	if err != nil || len(id) != 16 {
		return 0, fmt.Errorf("request log id %q was not issued by this local store", id)
	}
	return int64(seq), nil
}

// chunkMeta describes a stored chunk.
type chunkMeta struct {
	id               int64
	service, version string
	minTime          int64
	firstSeq         int64
	count            int
}

// cursorHeap orders open chunks by their next record.
type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return h[i].key.less(h[j].key) }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// ReadLogs lists the logs q selects in (Time, ID) order. It walks chunk
// descriptions a page at a time in min_time order and merges the chunks
// that overlap: a chunk is opened only when its first time is due, so the
// memory held is the open chunks, usually one or two, whatever the total.
func (b *Backend) ReadLogs(ctx context.Context, q backend.LogQuery, fn func(backend.RequestLog) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reading request logs: %w", err)
	}
	appID, err := lookupApp(ctx, b.db, q.App)
	if errors.Is(err, backend.ErrNotFound) {
		return nil // an app never seen has no logs
	}
	if err != nil {
		return err
	}
	r := logReader{b: b, q: q, appID: appID, lo: math.MinInt64, hi: math.MaxInt64, after: logKey{math.MinInt64, math.MinInt64}}
	if !q.Start.IsZero() {
		r.lo = q.Start.UnixNano()
	}
	if q.End.IsZero() {
		r.hi = b.now().UnixNano()
	} else {
		r.hi = q.End.UnixNano()
	}
	if !q.AfterTime.IsZero() {
		seq, err := parseLogID(q.AfterID)
		if err != nil {
			return err
		}
		r.after = logKey{q.AfterTime.UnixNano(), seq}
	}
	return r.run(ctx, fn)
}

// logReader is one ReadLogs call.
type logReader struct {
	b      *Backend
	q      backend.LogQuery
	appID  int64
	lo, hi int64  // time bounds
	after  logKey // resume point
	// The chunk description cursor.
	page    []chunkMeta
	pagePos int
	last    logKey // (min_time, id) of the last description read
	done    bool
}

// fetched is a chunk read ahead of the merge.
type fetched struct {
	m    chunkMeta
	data []byte // nil when the chunk was deleted meanwhile
	err  error
}

// run merges the chunks in order. A second goroutine reads them from the
// database a couple ahead, so SQLite's work overlaps the decoding and the
// caller's; it stops and is waited for before run returns.
func (r *logReader) run(ctx context.Context, fn func(backend.RequestLog) error) error {
	start := max(r.lo, r.after.t)
	// Every chunk holding a time >= start began at or after start-span.
	r.last = logKey{satSub(start, maxChunkSpan+1), math.MaxInt64}
	fctx, cancel := context.WithCancel(ctx)
	feed := make(chan fetched, 2)
	go r.fetch(fctx, start, feed)
	defer func() {
		cancel()
		for range feed { // wait for the fetcher to finish with the database
		}
	}()
	var pending *fetched
	open := &cursorHeap{}
	for {
		if pending == nil {
			if f, ok := <-feed; ok {
				if f.err != nil {
					return f.err
				}
				pending = &f
			}
		}
		if pending != nil && (open.Len() == 0 || pending.m.minTime <= (*open)[0].key.t) {
			c, err := r.open(pending.m, pending.data)
			pending = nil
			if err != nil {
				return err
			}
			if c != nil {
				heap.Push(open, c)
			}
			continue
		}
		if open.Len() == 0 {
			return nil
		}
		c := (*open)[0]
		if err := fn(c.head); err != nil {
			return err
		}
		more, err := c.next()
		if err != nil {
			return err
		}
		if more {
			heap.Fix(open, 0)
		} else {
			heap.Pop(open)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reading request logs: %w", err)
		}
	}
}

// fetch sends the chunks that may hold logs at or after start, in
// (min_time, id) order, then closes out.
func (r *logReader) fetch(ctx context.Context, start int64, out chan<- fetched) {
	defer close(out)
	for {
		m, err := r.peek(ctx, start)
		var f fetched
		switch {
		case err != nil:
			f.err = err
		case m == nil:
			return
		default:
			r.pagePos++
			f.m = *m
			f.data, f.err = r.load(ctx, *m)
		}
		select {
		case out <- f:
		case <-ctx.Done():
			return
		}
		if f.err != nil {
			return
		}
	}
}

func satSub(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

// peek returns the next chunk description, reading a page when needed; nil
// at the end.
func (r *logReader) peek(ctx context.Context, start int64) (*chunkMeta, error) {
	if r.pagePos < len(r.page) {
		return &r.page[r.pagePos], nil
	}
	if r.done {
		return nil, nil
	}
	where := `app_id = ?`
	args := []any{r.appID}
	if r.q.Service != "" {
		where += ` AND service = ?`
		args = append(args, r.q.Service)
		if r.q.Version != "" {
			where += ` AND version = ?`
			args = append(args, r.q.Version)
		}
	} else if r.q.Version != "" {
		where += ` AND version = ?`
		args = append(args, r.q.Version)
	}
	args = append(args, r.last.t, r.last.seq, r.hi, start, chunkPage)
	rows, err := r.b.db.QueryContext(ctx, `
SELECT id, service, version, min_time, first_seq, count FROM log_chunks
WHERE `+where+` AND (min_time, id) > (?, ?) AND min_time < ? AND max_time >= ?
ORDER BY min_time, id LIMIT ?`, args...)
	if err != nil {
		return nil, dbErr(ctx, "reading request logs", err)
	}
	defer rows.Close()
	r.page, r.pagePos = r.page[:0], 0
	for rows.Next() {
		var m chunkMeta
		if err := rows.Scan(&m.id, &m.service, &m.version, &m.minTime, &m.firstSeq, &m.count); err != nil {
			return nil, dbErr(ctx, "reading request logs", err)
		}
		r.page = append(r.page, m)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "reading request logs", err)
	}
	if len(r.page) < chunkPage {
		r.done = true
	}
	if len(r.page) == 0 {
		return nil, nil
	}
	lastM := r.page[len(r.page)-1]
	r.last = logKey{lastM.minTime, lastM.id}
	return &r.page[0], nil
}

// load reads one chunk's records; nil when it was deleted since its
// description was read.
func (r *logReader) load(ctx context.Context, m chunkMeta) ([]byte, error) {
	var data []byte
	err := r.b.db.QueryRowContext(ctx, `SELECT data FROM log_chunks WHERE id = ?`, m.id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbErr(ctx, "reading request logs", err)
	}
	return data, nil
}

// open returns a cursor on the first record in bounds of a chunk, or nil
// when it has none.
func (r *logReader) open(m chunkMeta, data []byte) (*cursor, error) {
	if data == nil {
		return nil, nil
	}
	// The blob is ours and never written again, so the strings of its
	// records can share its memory instead of copying it.
	c := &cursor{app: r.q.App, m: m, left: m.count, lo: r.lo, hi: r.hi, after: r.after}
	if len(data) > 0 {
		c.d.s = unsafe.String(&data[0], len(data))
	}
	more, err := c.next()
	if err != nil || !more {
		return nil, err
	}
	return c, nil
}

// Compile-time checks of the log capabilities.
var (
	_ backend.LogReader = (*Backend)(nil)
	_ backend.LogWriter = (*Backend)(nil)
)
