package local

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
)

const (
	// maxChunkLogs bounds the records of one chunk, and so the memory a
	// reader holds per chunk it has open.
	maxChunkLogs = 1000
	// maxChunkSpan bounds the time one chunk covers, so a reader starting
	// at time T finds every chunk that may hold T among those that begin
	// after T-maxChunkSpan: the index on min_time then answers it.
	maxChunkSpan = int64(time.Hour)
	// chunkPage is how many chunk descriptions one query returns;
	// firstChunkPage how many the first returns, so a download's first
	// copy waits for a short query only.
	chunkPage      = 256
	firstChunkPage = 32
	// fetchAhead is how many chunks the fetcher reads ahead of the merge
	// (a chunk whose lines are copied whole is its description only: a
	// reader copying lines lists about 12 MiB of them during a copy), and
	// decodedAhead how many of those may be decoded.
	fetchAhead   = 64
	decodedAhead = 2
)

// WriteLogs records logs of app in one transaction. The batch is sorted by
// time, given IDs from the app's sequence in that order, grouped by service
// version and cut into chunks.
func (b *Backend) WriteLogs(ctx context.Context, app string, logs []backend.RequestLog) error {
	return b.writeLogs(ctx, app, logs, backend.LineFormat{})
}

// WriteLogsWithLines implements backend.LogLineWriter: WriteLogs, keeping
// each log's line as f renders it in the app's lines file, tagged with
// f.Version.
func (b *Backend) WriteLogsWithLines(ctx context.Context, app string, logs []backend.RequestLog, f backend.LineFormat) error {
	return b.writeLogs(ctx, app, logs, f)
}

// writeLogs is WriteLogs, keeping lines unless f.Version is empty.
func (b *Backend) writeLogs(ctx context.Context, app string, logs []backend.RequestLog, f backend.LineFormat) error {
	if err := checkName("application id", app); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("recording request logs: %w", err)
	}
	if len(logs) == 0 {
		return nil
	}
	var done func()
	err := b.writeLazily(ctx, "recording request logs of app "+app, func(tx *sql.Tx) error {
		var err error
		done, err = b.recordLogs(ctx, tx, app, logs, f)
		return err
	})
	if err == nil {
		done()
	}
	return err
}

// recordLogs writes logs of app in tx; done, called once tx committed,
// remembers what the commit made known.
func (b *Backend) recordLogs(ctx context.Context, tx *sql.Tx, app string, logs []backend.RequestLog, f backend.LineFormat) (done func(), err error) {
	order := make([]int, len(logs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return logs[order[i]].Time.Before(logs[order[j]].Time) })
	// The app's row id, once a write committed it: apps are never deleted,
	// and recording the app again was a quarter of a small write, which
	// serve makes for every request it answers.
	appID, known := b.logApps.Load(app)
	done = func() {}
	if !known {
		if appID, err = ensureApp(ctx, tx, app); err != nil {
			return nil, err
		}
		done = func() { b.logApps.Store(app, appID) }
	}
	var next int64
	err = tx.QueryRowContext(ctx, `
INSERT INTO log_seq (app_id, next) VALUES (?, ?)
ON CONFLICT (app_id) DO UPDATE SET next = next + excluded.next RETURNING next`, appID, len(logs)).Scan(&next)
	if err != nil {
		return nil, dbErr(ctx, "numbering request logs", err)
	}
	first := next - int64(len(logs))
	var render func([]byte, *backend.RequestLog) []byte
	if f.Version != "" {
		render = f.New()
	}
	chunks := cutChunks(app, logs, order, first, render)
	// The lines go to the app's lines file first, and only then are
	// the chunks that locate them committed: a crash in between
	// leaves bytes no chunk refers to, never a chunk without its
	// lines (for power loss, see logSyncer). Writers of one store queue on this transaction, so
	// the file's end is this writer's to append at.
	var file, format sql.NullString
	var off int64
	if render != nil {
		name, at, err := b.appendLines(ctx, tx, appID, chunks)
		if err != nil {
			return nil, err
		}
		file, format, off = sql.NullString{String: name, Valid: true}, sql.NullString{String: f.Version, Valid: true}, at
	}
	stmt, err := tx.PrepareContext(ctx, `
INSERT INTO log_chunks (app_id, service, version, min_time, max_time, first_seq, count, data, lines_file, lines_off, lines_len, lines_format)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, dbErr(ctx, "recording request logs", err)
	}
	defer stmt.Close()
	for _, c := range chunks {
		lOff, lLen := sql.NullInt64{Int64: off, Valid: file.Valid}, sql.NullInt64{Int64: int64(len(c.lines)), Valid: file.Valid}
		if _, err := stmt.ExecContext(ctx, appID, c.service, c.version, c.minTime, c.maxTime, c.firstSeq, c.count, c.data, file, lOff, lLen, format); err != nil {
			return nil, dbErr(ctx, "recording request logs", err)
		}
		off += int64(len(c.lines))
	}
	return done, nil
}

// appIDCache maps app names to their row ids, each stored once the
// transaction that recorded the app committed.
type appIDCache struct{ m sync.Map }

func (c *appIDCache) Load(app string) (int64, bool) {
	id, ok := c.m.Load(app)
	if !ok {
		return 0, false
	}
	return id.(int64), true
}

func (c *appIDCache) Store(app string, id int64) { c.m.Store(app, id) }

// logDir is the directory of the lines files inside a store's root.
const logDir = "logs"

// appendLines appends the chunks' lines to the app's lines file (synced in
// the background, see logSyncer) and returns the file's name and the offset they start at. Called in the
// transaction that records the chunks.
func (b *Backend) appendLines(ctx context.Context, tx *sql.Tx, appID int64, chunks []chunk) (string, int64, error) {
	dir := filepath.Join(b.root, logDir)
	var file string
	err := tx.QueryRowContext(ctx, `SELECT file FROM log_lines WHERE app_id = ?`, appID).Scan(&file)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", 0, dbErr(ctx, "recording request logs", err)
	}
	var f *os.File
	if file != "" {
		f, err = os.OpenFile(filepath.Join(dir, file), os.O_WRONLY, 0)
	}
	if file == "" || errors.Is(err, fs.ErrNotExist) {
		// None yet, or it went missing: start a file of a new name.
		var rnd [8]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return "", 0, fmt.Errorf("recording request logs: %w", err)
		}
		file = fmt.Sprintf("%d-%x.lines", appID, rnd)
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_lines (app_id, file) VALUES (?, ?)
ON CONFLICT (app_id) DO UPDATE SET file = excluded.file`, appID, file); err != nil {
			return "", 0, dbErr(ctx, "recording request logs", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", 0, fmt.Errorf("recording request logs: %w", err)
		}
		f, err = os.OpenFile(filepath.Join(dir, file), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	name := filepath.Join(dir, file)
	if err != nil {
		return "", 0, fmt.Errorf("recording request logs in %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, fmt.Errorf("recording request logs in %s: %w", name, err)
	}
	off := st.Size()
	at := off
	for _, c := range chunks {
		if _, err := f.WriteAt(c.lines, at); err != nil {
			return "", 0, fmt.Errorf("recording request logs in %s: %w", name, err)
		}
		at += int64(len(c.lines))
	}
	b.logSync.markLines(file)
	return file, off, nil
}

// chunk is one encoded run of records of a service version.
type chunk struct {
	service, version string
	minTime, maxTime int64
	firstSeq         int64
	count            int
	data             []byte
	lines            []byte // the records' lines, when the writer keeps them
	// While the chunk is being cut: its dictionaries and records.
	dict  [backend.NumLogFields]map[string]uint32
	dicts [backend.NumLogFields][]byte
	recs  []byte
}

// cutChunks groups the logs, visited in order (sorted by time) and numbered
// from first on, by service version, cutting a chunk when it is full or
// would span more than maxChunkSpan; render, when not nil, writes each
// log's line into its chunk's lines, from the log as ReadLogs lists it.
func cutChunks(app string, logs []backend.RequestLog, order []int, first int64, render func([]byte, *backend.RequestLog) []byte) []chunk {
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
			done = append(done, c.seal())
			c = nil
		}
		if c == nil {
			if _, seen := open[k]; !seen {
				keys = append(keys, k)
			}
			c = &chunk{service: k.service, version: k.version, minTime: t, firstSeq: seq}
			open[k] = c
		}
		c.appendRecord(l, t-c.minTime, seq-c.firstSeq)
		if render != nil {
			listed := asListed(l, app, k.service, t, seq)
			c.lines = render(c.lines, &listed)
		}
		c.maxTime = t
		c.count++
	}
	for _, k := range keys {
		done = append(done, open[k].seal())
	}
	return done
}

// asListed returns l as ReadLogs lists it once recorded as number seq of
// app, t being its time: a line must not depend on who renders it.
func asListed(l *backend.RequestLog, app, service string, t, seq int64) backend.RequestLog {
	v := *l
	v.ID, v.App, v.Service, v.Time = formatLogID(seq), app, service, time.Unix(0, t)
	if len(l.AppLogs) > 0 {
		v.AppLogs = make([]backend.AppLogLine, len(l.AppLogs))
		for i, a := range l.AppLogs {
			v.AppLogs[i] = backend.AppLogLine{Time: time.Unix(0, a.Time.UnixNano()), Level: a.Level, Message: a.Message}
		}
	}
	return v
}

// The chunk encoding. Strings are dictionary-coded per field: a chunk
// starts with, for each string field (backend.LogIP … LogHost), the count
// of its distinct values and each value (length, bytes); then come the
// records, each its time and sequence number relative to the chunk's
// first, the dictionary index of each string field, status, bytes,
// latency and app log lines. Service, version and app are the chunk's.
//
// Most fields of a busy version repeat (host, method, protocol, user
// agents, referrers, popular paths), so a chunk is a fraction of the raw
// text — fewer database pages to read — and a reader handing whole blocks
// over (backend.LogBlockReader) lets the formatter escape each distinct
// value once per chunk.

// appendRecord encodes one record into the chunk.
func (c *chunk) appendRecord(l *backend.RequestLog, dt, dseq int64) {
	b := c.recs
	b = binary.AppendUvarint(b, uint64(dt))
	b = binary.AppendUvarint(b, uint64(dseq))
	for f, s := range [backend.NumLogFields]string{l.IP, l.Method, l.Resource, l.HTTPVersion, l.Referrer, l.UserAgent, l.Host} {
		if c.dict[f] == nil {
			c.dict[f] = map[string]uint32{}
		}
		idx, ok := c.dict[f][s]
		if !ok {
			idx = uint32(len(c.dict[f]))
			c.dict[f][s] = idx
			c.dicts[f] = appendLogString(c.dicts[f], s)
		}
		b = binary.AppendUvarint(b, uint64(idx))
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
	c.recs = b
}

// seal lays out the chunk's data: dictionaries, then records.
func (c *chunk) seal() chunk {
	size := len(c.recs)
	for f := range c.dicts {
		size += binary.MaxVarintLen32 + len(c.dicts[f])
	}
	data := make([]byte, 0, size)
	for f := range c.dicts {
		data = binary.AppendUvarint(data, uint64(len(c.dict[f])))
		data = append(data, c.dicts[f]...)
	}
	data = append(data, c.recs...)
	return chunk{service: c.service, version: c.version, minTime: c.minTime, maxTime: c.maxTime,
		firstSeq: c.firstSeq, count: c.count, data: data, lines: c.lines}
}

func appendLogString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// logDecoder reads records back. Strings are cut from one string holding the
// whole chunk, so decoding a record allocates only its app logs.
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

// cursor walks the records of one open chunk, decoded whole by the
// fetching goroutine, skipping those outside the query; head is the next
// record to hand out.
type cursor struct {
	m    chunkMeta
	dict [backend.NumLogFields][]string
	recs []backend.LogRecord
	seqs []int64
	pos  int // index of head in recs
	head *backend.LogRecord
	key  logKey
	// Bounds of the query.
	lo, hi int64
	after  logKey
	// Where dict starts in the dictionaries of the block being built
	// (ReadLogBlocks), valid when gen is the block's generation.
	gen int
	off [backend.NumLogFields]uint32
}

// decode decodes the chunk's dictionaries and records from d.
func (c *cursor) decode(d *logDecoder) error {
	for f := range c.dict {
		n := d.uvarint()
		if d.err != nil || n > uint64(len(d.s)) {
			return damagedf("the stored request logs are damaged (chunk %d): bad dictionary", c.m.id)
		}
		c.dict[f] = grow(c.dict[f], int(n))
		for i := range c.dict[f] {
			c.dict[f][i] = d.str()
		}
		if d.err != nil {
			return damagedf("the stored request logs are damaged (chunk %d): %v", c.m.id, d.err)
		}
	}
	if c.m.count < 0 || c.m.count > len(d.s) {
		return damagedf("the stored request logs are damaged (chunk %d): bad count", c.m.id)
	}
	c.recs = grow(c.recs, c.m.count)
	c.seqs = grow(c.seqs, c.m.count)
	var nd [backend.NumLogFields]uint64
	for f := range nd {
		nd[f] = uint64(len(c.dict[f]))
	}
	for k := range c.recs {
		h := &c.recs[k]
		// A record's leading numbers: time, sequence, the string
		// indexes, status, bytes, latency and app log count. Decoded in
		// one loop whose one-byte path the compiler keeps inline.
		var v [2 + backend.NumLogFields + 4]uint64
		s, p := d.s, d.pos
		for j := range v {
			var x uint64
			for shift := uint(0); ; shift += 7 {
				if p >= len(s) || shift > 63 {
					return damagedf("the stored request logs are damaged (chunk %d, record %d): truncated record", c.m.id, k)
				}
				b := s[p]
				p++
				x |= uint64(b&0x7f) << shift
				if b < 0x80 {
					break
				}
			}
			v[j] = x
		}
		d.pos = p
		t := c.m.minTime + int64(v[0])
		c.seqs[k] = c.m.firstSeq + int64(v[1])
		h.Time = t
		for f := range h.Str {
			i := v[2+f]
			if i >= nd[f] && d.err == nil {
				d.err = errors.New("bad dictionary index")
			}
			h.Str[f] = uint32(i)
		}
		unzig := func(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
		h.Status = int32(unzig(v[2+backend.NumLogFields]))
		h.Bytes = unzig(v[3+backend.NumLogFields])
		h.Latency = time.Duration(unzig(v[4+backend.NumLogFields]))
		h.AppLogs = nil
		if n := v[5+backend.NumLogFields]; n > 0 && d.err == nil {
			if n > uint64(len(d.s)) {
				return damagedf("the stored request logs are damaged (chunk %d): bad app log count", c.m.id)
			}
			h.AppLogs = make([]backend.AppLogLine, n)
			for j := range h.AppLogs {
				at := t + d.varint()
				h.AppLogs[j] = backend.AppLogLine{Time: time.Unix(0, at), Level: backend.Severity(d.varint()), Message: d.str()}
			}
		}
		if d.err != nil {
			return damagedf("the stored request logs are damaged (chunk %d, record %d): %v", c.m.id, k, d.err)
		}
	}
	return nil
}

// grow returns s resized to n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// next moves head to the next record in bounds; false at the end.
func (c *cursor) next() bool {
	for c.pos+1 < len(c.recs) {
		c.pos++
		c.key = logKey{c.recs[c.pos].Time, c.seqs[c.pos]}
		if c.key.t < c.lo || c.key.t >= c.hi || !c.after.less(c.key) {
			continue
		}
		c.head = &c.recs[c.pos]
		return true
	}
	return false
}

// log returns head as a RequestLog of app.
func (c *cursor) log(app string) backend.RequestLog {
	h := c.head
	return backend.RequestLog{
		ID: formatLogID(c.key.seq), Time: time.Unix(0, h.Time),
		IP: c.dict[backend.LogIP][h.Str[backend.LogIP]], Method: c.dict[backend.LogMethod][h.Str[backend.LogMethod]],
		Resource: c.dict[backend.LogResource][h.Str[backend.LogResource]], HTTPVersion: c.dict[backend.LogHTTPVersion][h.Str[backend.LogHTTPVersion]],
		Status: int(h.Status), Bytes: h.Bytes,
		Referrer: c.dict[backend.LogReferrer][h.Str[backend.LogReferrer]], UserAgent: c.dict[backend.LogUserAgent][h.Str[backend.LogUserAgent]],
		Host: c.dict[backend.LogHost][h.Str[backend.LogHost]], Latency: h.Latency,
		App: app, Service: c.m.service, Version: c.m.version, AppLogs: h.AppLogs,
	}
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
	minTime, maxTime int64
	firstSeq         int64 // set by load: the listing does not read it
	count            int
	hasLines         bool // linesFile, linesOff and linesLen locate its lines
	wantedFormat     bool // its lines are in the backend.LineFormat version the listing wants
	linesFile        string
	linesOff         int64
	linesLen         int64
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
	r, err := b.newLogReader(ctx, q, backend.LineFormat{})
	if r == nil || err != nil {
		return err
	}
	return r.run(ctx, func(c *cursor) error { return fn(c.log(q.App)) }, nil, nil)
}

// blockLogs is how many records a block of ReadLogBlocks holds at most.
const blockLogs = 1024

// ReadLogBlocks lists the logs q selects as ReadLogs does, handing them over
// a block at a time: a block's dictionaries are those of the chunks its
// records come from, so a stored chunk becomes a block without re-coding.
func (b *Backend) ReadLogBlocks(ctx context.Context, q backend.LogQuery, fn func(*backend.LogBlock) error) error {
	r, err := b.newLogReader(ctx, q, backend.LineFormat{})
	if r == nil || err != nil {
		return err
	}
	bb := &blockBuilder{fn: fn, gen: 1}
	bb.block.App = q.App
	bb.block.ID = func(i int) string { return formatLogID(bb.seqs[i]) }
	if err := r.run(ctx, bb.add, nil, nil); err != nil {
		return err
	}
	return bb.flush()
}

// linesRun is how many bytes of formatted lines ReadLogLines gathers before
// handing them over; maxSpan bounds a range of stored lines handed over,
// and a range of at least minSpan is handed over when the next chunk is not
// listed yet.
const (
	linesRun = 256 << 10
	maxSpan  = 64 << 20
	minSpan  = 4 << 20
)

// ReadLogLines implements backend.LogLineReader. A chunk that lies whole
// inside the query, overlapping no other in time, and whose lines f's
// version rendered, is handed over as a reader of its lines in the app's
// lines file (an *io.LimitedReader of an *os.File, which io.Copy to a file
// copies in the kernel), without decoding its records; the others (at the
// window's edges, interleaved with another chunk, kept in another format or
// none) are merged record by record and rendered here with f.
func (b *Backend) ReadLogLines(ctx context.Context, q backend.LogQuery, f backend.LineFormat, fn func(lines io.Reader, n int) error) error {
	r, err := b.newLogReader(ctx, q, f)
	if r == nil || err != nil {
		return err
	}
	r.wantLines = f.Version
	render := f.New()
	defer func() { // after run, which waits for the fetcher
		for _, f := range append(r.old, r.lines) {
			if f != nil {
				f.Close()
			}
		}
	}()
	var buf []byte
	n := 0
	// Whole chunks that follow each other in one lines file (a busy
	// version's usually do) are handed over as one range.
	var span struct {
		f        *os.File
		off, len int64
		n        int
	}
	flush := func() error {
		if n > 0 {
			err := fn(bytes.NewReader(buf), n)
			buf, n = buf[:0], 0
			if err != nil {
				return err
			}
		}
		if span.n > 0 {
			f, off, length, count := span.f, span.off, span.len, span.n
			span.f, span.n = nil, 0
			// Only this goroutine moves the file's offset; the
			// fetcher only reads its size.
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				return fmt.Errorf("reading request logs: %w", err)
			}
			return fn(&io.LimitedReader{R: f, N: length}, count)
		}
		return nil
	}
	emit := func(c *cursor) error {
		if span.n > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		l := c.log(q.App)
		buf = render(buf, &l)
		if n++; len(buf) >= linesRun {
			return flush()
		}
		return nil
	}
	whole := func(f *os.File, m chunkMeta) error {
		// A span stays short enough that a cancellation between two
		// copies ends a download promptly.
		if span.n > 0 && span.f == f && span.off+span.len == m.linesOff && span.len < maxSpan {
			span.len += m.linesLen
			span.n += m.count
			return nil
		}
		if err := flush(); err != nil {
			return err
		}
		span.f, span.off, span.len, span.n = f, m.linesOff, m.linesLen, m.count
		return nil
	}
	// Rather than wait for the next chunk's description, copy what is
	// gathered, if it is worth a copy of its own: the first copy starts
	// once minSpan is listed, and the listing goes on during the copies.
	idle := func() error {
		if span.n > 0 && span.len >= minSpan {
			return flush()
		}
		return nil
	}
	if err := r.run(ctx, emit, whole, idle); err != nil {
		return err
	}
	return flush()
}

// blockBuilder gathers merged records into blocks.
type blockBuilder struct {
	fn    func(*backend.LogBlock) error
	block backend.LogBlock
	seqs  []int64 // of the records, for their IDs
	gen   int     // generation of the block being built
}

// add appends the head of c to the block, first flushing a full block or
// one of another service version.
func (bb *blockBuilder) add(c *cursor) error {
	bl := &bb.block
	if n := len(bl.Records); n > 0 && (n >= blockLogs || c.m.service != bl.Service || c.m.version != bl.Version) {
		if err := bb.flush(); err != nil {
			return err
		}
	}
	if len(bl.Records) == 0 {
		bl.Service, bl.Version = c.m.service, c.m.version
	}
	if c.gen != bb.gen {
		// The chunk's first record in this block: its dictionaries join
		// the block's.
		c.gen = bb.gen
		for f := range bl.Dict {
			c.off[f] = uint32(len(bl.Dict[f]))
			bl.Dict[f] = append(bl.Dict[f], c.dict[f]...)
		}
	}
	bl.Records = append(bl.Records, *c.head)
	rec := &bl.Records[len(bl.Records)-1]
	for f := range rec.Str {
		rec.Str[f] += c.off[f]
	}
	bb.seqs = append(bb.seqs, c.key.seq)
	return nil
}

// flush hands the block over, if it holds any record, and starts the next.
func (bb *blockBuilder) flush() error {
	bl := &bb.block
	if len(bl.Records) == 0 {
		return nil
	}
	err := bb.fn(bl)
	bl.Records = bl.Records[:0]
	for f := range bl.Dict {
		clear(bl.Dict[f]) // drop the chunks' memory
		bl.Dict[f] = bl.Dict[f][:0]
	}
	bb.seqs = bb.seqs[:0]
	bb.gen++
	return err
}

// newLogReader prepares the listing of q; nil when the app was never seen.
// First it folds the spools (logspool.go), keeping lines as f renders
// them, so every log a server spooled is listed.
func (b *Backend) newLogReader(ctx context.Context, q backend.LogQuery, f backend.LineFormat) (*logReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading request logs: %w", err)
	}
	if err := b.foldSpools(ctx, f); err != nil {
		return nil, err
	}
	appID, err := lookupApp(ctx, b.db, q.App)
	if errors.Is(err, backend.ErrNotFound) {
		return nil, nil // an app never seen has no logs
	}
	if err != nil {
		return nil, err
	}
	r := &logReader{b: b, q: q, appID: appID, spare: make(chan *cursor, 4), lo: math.MinInt64, hi: math.MaxInt64,
		after: logKey{math.MinInt64, math.MinInt64}, maxSeen: math.MinInt64}
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
			return nil, err
		}
		r.after = logKey{q.AfterTime.UnixNano(), seq}
	}
	return r, nil
}

// logReader is one listing.
type logReader struct {
	b      *Backend
	q      backend.LogQuery
	appID  int64
	spare  chan *cursor // finished cursors, from the merge to the fetcher
	lo, hi int64        // time bounds
	after  logKey       // resume point
	// wantLines: chunks that can be handed over whole and whose lines
	// this format version rendered are read as their stored lines
	// (ReadLogLines); "" for none.
	wantLines string
	maxSeen   int64    // the latest max_time of the chunks fetched so far
	lines     *os.File // the lines file of the last chunk fetched
	linesName string   // its name
	linesSize int64    // its size when last looked at
	old       []*os.File
	// The chunk description cursor.
	list    *chunkListing // prepared on the first page
	page    []chunkMeta
	pagePos int
	last    logKey // (min_time, id) of the last description read
	done    bool
}

// fetched is a chunk read and decoded ahead of the merge.
type fetched struct {
	m     chunkMeta
	c     *cursor  // on its first record in bounds; nil when it has none
	whole *os.File // instead of c: hand the chunk's lines over whole, from this file
	err   error
}

// run merges the chunks in order, calling emit with the cursor whose head
// is the next record, or, with wantLines, whole with the stored lines of a
// chunk that comes whole between two records. The chunks are read from the
// database ahead of the merge, so SQLite's work overlaps the decoding and
// the caller's: the merge (and so emit, whole and idle) runs in a second
// goroutine, waited for before run returns, and the reading in the
// caller's. The caller's stack has grown through SQLite's calls already
// (the store's opening): a new goroutine's would grow again, through
// fresh pages, each a page fault, while the first copy waits for the
// first page of descriptions. idle, when not nil, is called when the next
// chunk is not read yet, before waiting for it: the caller may then write
// what it gathered rather than wait.
func (r *logReader) run(ctx context.Context, emit func(*cursor) error, whole func(*os.File, chunkMeta) error, idle func() error) error {
	start := max(r.lo, r.after.t)
	// Every chunk holding a time >= start began at or after start-span.
	r.last = logKey{satSub(start, maxChunkSpan+1), math.MaxInt64}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The fetcher reads up to fetchAhead chunks ahead, so it lists while
	// the caller copies lines; of those, only decodedAhead may be decoded,
	// so memory stays that of a few chunks.
	feed, decoded := make(chan fetched, fetchAhead), make(chan struct{}, decodedAhead)
	merged := make(chan error, 1)
	var caught crash.Catcher // a panic of emit, whole or idle: the caller's, as before
	go func() {
		var err error
		defer func() {
			cancel() // an early end stops the fetcher
			merged <- err
		}()
		defer caught.Recover()
		err = r.merge(ctx, feed, decoded, emit, whole, idle)
	}()
	r.fetch(fctx, start, feed, decoded)
	err := <-merged
	if r.list != nil {
		r.list.close(ctx)
	}
	caught.Reraise()
	return err
}

// merge is run's merging side: it takes the chunks fetch sends on feed.
func (r *logReader) merge(ctx context.Context, feed <-chan fetched, decoded <-chan struct{}, emit func(*cursor) error, whole func(*os.File, chunkMeta) error, idle func() error) error {
	var pending fetched // valid when hasPending
	hasPending, more := false, true
	open := &cursorHeap{}
	for {
		if !hasPending && more {
			var f fetched
			select {
			case f, more = <-feed:
			default:
				if idle != nil {
					if err := idle(); err != nil {
						return err
					}
				}
				f, more = <-feed
			}
			if more {
				if f.c != nil {
					<-decoded
				}
				if f.err != nil {
					return f.err
				}
				pending, hasPending = f, true
			}
		}
		if hasPending && (open.Len() == 0 || pending.m.minTime <= (*open)[0].key.t) {
			hasPending = false
			if pending.whole != nil {
				// Every earlier record is before the chunk's first
				// (see wholeChunk), so the heap is empty here.
				if err := whole(pending.whole, pending.m); err != nil {
					return err
				}
				continue
			}
			if pending.c != nil {
				heap.Push(open, pending.c)
			}
			continue
		}
		if open.Len() == 0 {
			return nil
		}
		// The first cursor hands out records until another open chunk's
		// head or the pending chunk's start is due: without overlap, the
		// whole chunk in one run.
		c := (*open)[0]
		bound := logKey{math.MaxInt64, math.MaxInt64}
		if hasPending {
			bound = logKey{pending.m.minTime, math.MinInt64}
		}
		for _, o := range (*open)[1:min(3, open.Len())] { // the heap's second is a child of its first
			if o.key.less(bound) {
				bound = o.key
			}
		}
		for n := 0; ; n++ {
			if err := emit(c); err != nil {
				return err
			}
			if !c.next() {
				heap.Pop(open)
				r.retire(c)
				break
			}
			if !c.key.less(bound) {
				heap.Fix(open, 0)
				break
			}
			if n&1023 == 1023 {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("reading request logs: %w", err)
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reading request logs: %w", err)
		}
	}
}

// fetch sends the chunks that may hold logs at or after start, in
// (min_time, id) order, then closes out; it returns early when ctx ends
// (the merge stopped). Before sending a decoded chunk it takes a place in
// decoded, which the merge frees when it takes the chunk.
func (r *logReader) fetch(ctx context.Context, start int64, out chan<- fetched, decoded chan<- struct{}) {
	defer close(out)
	var perr error
	defer func() {
		if perr != nil { // a bug: the merge must not take it for the end
			select {
			case out <- fetched{err: perr}:
			case <-ctx.Done():
			}
		}
	}()
	defer crash.Recover(&perr)
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
			f.m = *m // a copy: wholeChunk's peek may read the next page
			var whole bool
			if whole, f.err = r.wholeChunk(ctx, start, f.m); whole {
				f.whole = r.lines
			}
			if f.whole == nil && f.err == nil {
				var data []byte
				if data, f.m.firstSeq, f.err = r.load(ctx, f.m); f.err == nil {
					f.c, f.err = r.open(f.m, data)
				}
			}
			r.maxSeen = max(r.maxSeen, f.m.maxTime)
			r.b.step("log chunk fetched")
		}
		if f.c != nil {
			select {
			case decoded <- struct{}{}:
			case <-ctx.Done():
				return
			}
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
	if r.list == nil {
		l, err := r.prepareListing(ctx)
		if err != nil {
			return nil, err
		}
		r.list = l
		r.page = make([]chunkMeta, 0, chunkPage)
	}
	l := r.list
	limit := chunkPage
	if l.pages == 0 {
		limit = firstChunkPage
	}
	l.pages++
	l.args = append(l.args[:l.fixed], r.last.t, r.last.seq, r.hi, start, limit)
	rows, err := l.stmt.QueryContext(ctx, l.args...)
	if err != nil {
		return nil, dbErr(ctx, "reading request logs", err)
	}
	defer rows.Close()
	r.page, r.pagePos = r.page[:0], 0
	for rows.Next() {
		if err := rows.Scan(l.dest...); err != nil {
			return nil, dbErr(ctx, "reading request logs", err)
		}
		m, err := l.meta()
		if err != nil {
			return nil, dbErr(ctx, "reading request logs", err)
		}
		r.page = append(r.page, m)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "reading request logs", err)
	}
	if len(r.page) < limit {
		r.done = true
	}
	if len(r.page) == 0 {
		return nil, nil
	}
	lastM := r.page[len(r.page)-1]
	r.last = logKey{lastM.minTime, lastM.id}
	return &r.page[0], nil
}

// chunkListing is the prepared query of the pages of one listing and the
// variables each row is scanned into. A process as short as a download
// touches a fresh page of memory for every 4 KiB it allocates, and a
// million logs are a thousand rows: reading each into the same variables,
// with the one statement, costs no allocation of the reader's own, and
// neither column the query already fixes (service, version) nor the lines'
// format name (compared by SQLite) is read back.
type chunkListing struct {
	conn  *smallCacheConn // the listing's own, with a small page cache (listingCache)
	stmt  *sql.Stmt
	pages int   // how many were read
	args  []any // the bound values: fixed ones, then the page's
	fixed int
	// vals receives a row's columns as the driver hands them over (meta
	// reads them), and dest points at them. database/sql stores a value
	// into an *any as it is, where a typed destination (an int64, a
	// sql.NullString) takes a conversion through reflection per column:
	// a fifth of a download's user-space instructions for a million logs.
	vals [listingCols]any
	dest []any
	row  chunkMeta // the columns the query fixes (service, version)
	// fixedService and fixedVersion: the query fixes them, so the row
	// does not hold them.
	fixedService, fixedVersion bool
}

// listingCols is how many columns chunkListingSQL reads at most: id,
// min_time, max_time, count, lines_file, lines_off, lines_len, whether
// lines_format is the one wanted (NULL without lines), then service and
// version when the query does not fix them.
const listingCols = 10

// meta converts the row in l.vals into a chunk description. Every column
// but the lines' is NOT NULL in the table; a value of another type than
// the schema's is an error, as Scan into a typed destination made it.
func (l *chunkListing) meta() (chunkMeta, error) {
	m, v := l.row, &l.vals
	var ok [4]bool
	var count int64
	m.id, ok[0] = v[0].(int64)
	m.minTime, ok[1] = v[1].(int64)
	m.maxTime, ok[2] = v[2].(int64)
	count, ok[3] = v[3].(int64)
	if ok != [4]bool{true, true, true, true} {
		return m, fmt.Errorf("a log chunk's description holds %T, %T, %T, %T where its id, times and count belong", v[0], v[1], v[2], v[3])
	}
	m.count = int(count)
	// No lines (NULLs), or lines the store cannot have written, send the
	// chunk down the records path.
	file, fileOK := text(v[4])
	off, offOK := v[5].(int64)
	n, nOK := v[6].(int64)
	wanted, formatOK := v[7].(int64)
	m.hasLines = fileOK && offOK && nOK && formatOK && off >= 0 && n > 0 &&
		filepath.Base(file) == file && file != "." && file != ".."
	m.linesFile, m.linesOff, m.linesLen, m.wantedFormat = file, off, n, formatOK && wanted != 0
	next := 8
	if !l.fixedService {
		var ok bool
		if m.service, ok = text(v[next]); !ok {
			return m, fmt.Errorf("a log chunk's description holds %T where its service belongs", v[next])
		}
		next++
	}
	if !l.fixedVersion {
		var ok bool
		if m.version, ok = text(v[next]); !ok {
			return m, fmt.Errorf("a log chunk's description holds %T where its version belongs", v[next])
		}
	}
	return m, nil
}

// text is a TEXT column's value as the driver hands it over.
func text(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

// listingCache is the page cache, in pages, of a listing's connection.
// A listing reads each page of the index, and each page of a chunk's data,
// once: SQLite's default cache (2,000 pages) would take a fresh page of
// memory, a page fault, for each page read up to that size, where a small
// one reuses its pages. It keeps the index's upper pages, which every
// query goes through.
const listingCache = 16

// prepareListing takes a connection for r's listing, shrinks its page
// cache, and prepares the query of r's pages.
func (r *logReader) prepareListing(ctx context.Context) (*chunkListing, error) {
	conn, err := smallCache(ctx, r.b.db, listingCache)
	if err != nil {
		return nil, dbErr(ctx, "reading request logs", err)
	}
	l := &chunkListing{conn: conn}
	service, version := r.q.Service != "", r.q.Version != ""
	l.stmt, err = conn.PrepareContext(ctx, chunkListingSQL(service, version))
	if err != nil {
		l.close(ctx)
		return nil, dbErr(ctx, "reading request logs", err)
	}
	l.args = append(l.args, r.wantLines, r.appID)
	if service {
		l.args = append(l.args, r.q.Service)
		l.row.service = r.q.Service
	}
	if version {
		l.args = append(l.args, r.q.Version)
		l.row.version = r.q.Version
	}
	l.fixed = len(l.args)
	l.fixedService, l.fixedVersion = service, version
	cols := 8
	if !service {
		cols++
	}
	if !version {
		cols++
	}
	l.dest = make([]any, cols)
	for i := range l.dest {
		l.dest[i] = &l.vals[i]
	}
	return l, nil
}

// close closes the statement and gives the connection back to the pool
// with its page cache as it was; one whose cache cannot be restored is
// closed instead, so no other use of the store gets the small cache.
func (l *chunkListing) close(ctx context.Context) {
	if l.stmt != nil {
		l.stmt.Close()
	}
	l.conn.release(ctx)
}

// chunkListingSQL is the query of a page of chunk descriptions, of a
// service, a version or both (or neither): the columns the query does not
// fix come last. Its first parameter is the lines' format wanted. Every
// column it reads is in the index it walks (see schemaLogChunkListing), so
// it never reads the table: a column added here goes into both indexes too.
func chunkListingSQL(service, version bool) string {
	cols, where := ``, `app_id = ?`
	if service {
		where += ` AND service = ?`
	} else {
		cols += `, service`
	}
	if version {
		where += ` AND version = ?`
	} else {
		cols += `, version`
	}
	return `
SELECT id, min_time, max_time, count, lines_file, lines_off, lines_len, lines_format = ?` + cols + ` FROM log_chunks
WHERE ` + where + ` AND (min_time, id) > (?, ?) AND min_time < ? AND max_time >= ?
ORDER BY min_time, id LIMIT ?`
}

// wholeChunk reports whether the chunk m, just taken from the page, can be
// handed over as its stored lines: it has them, all its records are in the
// query's bounds, in the format asked for, and it overlaps no other chunk in time: every chunk
// fetched before ends before it begins, and the next begins after it ends
// (chunks come in min_time order, so no later one begins sooner).
func (r *logReader) wholeChunk(ctx context.Context, start int64, m chunkMeta) (bool, error) {
	if r.wantLines == "" || !m.hasLines || !m.wantedFormat || m.minTime < r.lo || m.maxTime >= r.hi || m.minTime <= r.after.t {
		return false, nil
	}
	if r.maxSeen >= m.minTime {
		return false, nil
	}
	next, err := r.peek(ctx, start)
	if err != nil {
		return false, err
	}
	return (next == nil || next.minTime > m.maxTime) && r.linesStored(m), nil
}

// linesStored reports whether the chunk's lines file holds its lines, and
// makes it r.lines. A file only grows, so its size is read again only when
// a chunk lies beyond what was seen. No file, or a short one (a store
// copied without it), sends the chunk down the records path.
func (r *logReader) linesStored(m chunkMeta) bool {
	end := m.linesOff + m.linesLen
	if r.lines == nil || r.linesName != m.linesFile {
		if r.lines != nil {
			r.old = append(r.old, r.lines) // the merge may still copy from it
		}
		r.lines, r.linesName, r.linesSize = nil, m.linesFile, 0
		f, err := os.Open(filepath.Join(r.b.root, logDir, m.linesFile))
		if err != nil {
			return false
		}
		r.lines = f
	}
	if end <= r.linesSize {
		return true
	}
	if st, err := r.lines.Stat(); err == nil {
		r.linesSize = st.Size()
	}
	return end <= r.linesSize
}

// load reads one chunk's records and the sequence number of its first
// (read here, with the row, rather than by the listing, which needs it for
// no chunk whose lines are copied whole); nil when the chunk was deleted
// since its description was read.
func (r *logReader) load(ctx context.Context, m chunkMeta) ([]byte, int64, error) {
	var data []byte
	var firstSeq int64
	err := r.list.conn.QueryRowContext(ctx, `SELECT data, first_seq FROM log_chunks WHERE id = ?`, m.id).Scan(&data, &firstSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, dbErr(ctx, "reading request logs", err)
	}
	return data, firstSeq, nil
}

// open returns a cursor on the first record in bounds of a chunk, or nil
// when it has none.
func (r *logReader) open(m chunkMeta, data []byte) (*cursor, error) {
	if data == nil {
		return nil, nil
	}
	// The blob is ours and never written again, so the strings of its
	// records can share its memory instead of copying it.
	var c *cursor
	select {
	case c = <-r.spare: // a finished cursor's arrays, to spare the GC
	default:
		c = &cursor{}
	}
	*c = cursor{m: m, pos: -1, lo: r.lo, hi: r.hi, after: r.after, dict: c.dict, recs: c.recs, seqs: c.seqs}
	var d logDecoder
	if len(data) > 0 {
		d.s = unsafe.String(&data[0], len(data))
	}
	if err := c.decode(&d); err != nil {
		return nil, err
	}
	if !c.next() {
		r.retire(c)
		return nil, nil
	}
	return c, nil
}

// retire hands a finished cursor's arrays over for reuse. Nothing handed
// out refers to them: logs and blocks hold copies of the records, and their
// strings point into the chunk's data, which is never reused.
func (r *logReader) retire(c *cursor) {
	clear(c.recs) // drop the app log lines
	for f := range c.dict {
		clear(c.dict[f]) // and the chunk's data
	}
	select {
	case r.spare <- c:
	default:
	}
}

// Compile-time checks of the log capabilities.
var (
	_ backend.LogReader      = (*Backend)(nil)
	_ backend.LogWriter      = (*Backend)(nil)
	_ backend.LogBlockReader = (*Backend)(nil)
	_ backend.LogLineReader  = (*Backend)(nil)
	_ backend.LogLineWriter  = (*Backend)(nil)
)
