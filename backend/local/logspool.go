package local

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/appcfg/appcfg/backend"
)

// A request-log spool is an append-only file one serve process appends
// each log to, in one write(2) before the response, and folds into the log
// tables off the request path. What write(2) handed the kernel survives
// the process being killed, as a commit did before; power loss may lose
// the spool's unsynced tail, as it may lose the last logSyncDelay of
// commits. The folded position of every spool is a row of log_spools,
// updated in the transaction that writes the folded logs, so each log is
// written once whichever process folds it, and a reader folds every spool
// before it lists: a log spooled is a log listed.
//
// A spool is logs/spools/NAME, locked (lockSpool) by its writer while it
// lives. A spool whose lock is free was left by a killed process: the
// first reader or serve folds it to its last whole record (a torn last
// record was never answered) and removes it. Every spoolRotate bytes the
// writer starts a new file and removes the old one once folded, so a spool
// stays small while folds keep up, and refuses appends past spoolMax
// bytes not folded (folds failing: a full disk), leaving the caller to
// write through the store as before.
const (
	spoolDir    = "spools"
	spoolRotate = 1 << 20
	spoolMax    = 64 << 20
	// foldRead bounds what one fold transaction reads of a spool.
	foldRead = 8 << 20
	// spoolHeader is a record's header: payload length, then its CRC-32C.
	spoolHeader = 8
)

// spoolCRC is made on first use: building the CRC-32C tables is 1.3 M
// instructions and two fresh pages, which every command paid at start.
var spoolCRC = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// logSpool implements backend.LogSpool.
type logSpool struct {
	b      *Backend
	format backend.LineFormat
	// rotate and max are spoolRotate and spoolMax (smaller in tests).
	rotate, max int64
	foldMu      sync.Mutex // one Fold at a time

	mu      sync.Mutex // guards what follows
	cur     *os.File
	size    int64 // bytes appended to cur
	folded  int64 // bytes of cur folded, as the last Fold left it
	retired []*os.File
	broken  bool // a write to cur failed part-way: start a new file
	closed  bool
	buf     []byte
}

// OpenLogSpool implements backend.LogSpooler.
func (b *Backend) OpenLogSpool(ctx context.Context, app string, f backend.LineFormat) (backend.LogSpool, error) {
	if err := checkName("application id", app); err != nil {
		return nil, err
	}
	if err := b.foldSpools(ctx, f); err != nil {
		return nil, err
	}
	cur, err := b.newSpoolFile()
	if err != nil {
		return nil, err
	}
	return &logSpool{b: b, format: f, cur: cur, rotate: spoolRotate, max: spoolMax}, nil
}

// newSpoolFile creates a spool file of this process and takes its lock.
func (b *Backend) newSpoolFile() (*os.File, error) {
	dir := filepath.Join(b.root, logDir, spoolDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the request-log spool: %w", err)
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	f, err := os.OpenFile(filepath.Join(dir, hex.EncodeToString(id[:])), os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the request-log spool: %w", err)
	}
	if lockable && !lockSpool(f) {
		f.Close()
		return nil, fmt.Errorf("creating the request-log spool %s: another process holds its lock", f.Name())
	}
	return f, nil
}

// Append implements backend.LogSpool: the logs' records go to the file in
// one write.
func (s *logSpool) Append(logs []backend.RequestLog) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("spooling request logs: the spool is closed")
	}
	if s.broken {
		cur, err := s.b.newSpoolFile()
		if err != nil {
			return err
		}
		s.retired = append(s.retired, s.cur)
		s.cur, s.size, s.folded, s.broken = cur, 0, 0, false
	}
	if s.size-s.folded > s.max {
		return fmt.Errorf("spooling request logs: the spool holds %d MiB not yet written to the store", (s.size-s.folded)>>20)
	}
	buf := s.buf[:0]
	for i := range logs {
		var err error
		if buf, err = appendSpoolRecord(buf, &logs[i]); err != nil {
			return err
		}
	}
	s.buf = buf
	n, err := s.cur.Write(buf)
	s.size += int64(n)
	if err != nil {
		// A record cut short would hide every record after it from the
		// folds: the next append starts a new file, and this one is folded
		// up to the cut.
		s.broken = n > 0
		return fmt.Errorf("spooling request logs: %w", err)
	}
	return nil
}

// appendSpoolRecord appends l's record: its header, then l as JSON.
func appendSpoolRecord(b []byte, l *backend.RequestLog) ([]byte, error) {
	data, err := json.Marshal(l)
	if err != nil {
		return b, fmt.Errorf("spooling request logs: %w", err)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(data, spoolCRC()))
	return append(b, data...), nil
}

// decodeSpool decodes the whole records at the start of data and returns
// them and how many bytes they take; it stops at the first record cut
// short or damaged.
func decodeSpool(data []byte) ([]backend.RequestLog, int) {
	var logs []backend.RequestLog
	used := 0
	for len(data)-used >= spoolHeader {
		n := int(binary.LittleEndian.Uint32(data[used:]))
		sum := binary.LittleEndian.Uint32(data[used+4:])
		end := used + spoolHeader + n
		if n > len(data)-used-spoolHeader || crc32.Checksum(data[used+spoolHeader:end], spoolCRC()) != sum {
			break
		}
		var l backend.RequestLog
		if json.Unmarshal(data[used+spoolHeader:end], &l) != nil {
			break
		}
		logs = append(logs, l)
		used = end
	}
	return logs, used
}

// Fold implements backend.LogSpool.
func (s *logSpool) Fold(ctx context.Context) (int, error) {
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	s.mu.Lock()
	if s.size >= s.rotate && !s.closed {
		// A new file for the appends from now on; this one is folded to
		// its end below and removed.
		if cur, err := s.b.newSpoolFile(); err == nil {
			s.retired = append(s.retired, s.cur)
			s.cur, s.size, s.folded = cur, 0, 0
		}
	}
	retired, cur := s.retired, s.cur
	s.mu.Unlock()
	total := 0
	for len(retired) > 0 {
		f := retired[0]
		n, _, err := s.b.foldSpool(ctx, f, s.format, true)
		total += n
		if err == nil {
			err = s.b.removeSpool(ctx, f)
		}
		if err != nil {
			return total, err
		}
		f.Close()
		retired = retired[1:]
		s.mu.Lock()
		s.retired = s.retired[1:]
		s.mu.Unlock()
	}
	n, pos, err := s.b.foldSpool(ctx, cur, s.format, false)
	total += n
	s.mu.Lock()
	if s.cur == cur && pos > s.folded {
		s.folded = pos
	}
	s.mu.Unlock()
	return total, err
}

// Close implements backend.LogSpool.
func (s *logSpool) Close(ctx context.Context) (int, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, nil
	}
	s.closed = true
	s.retired = append(s.retired, s.cur) // folded to its end, then removed
	s.mu.Unlock()
	return s.Fold(ctx)
}

// foldSpool folds what spool f holds past its folded position into the
// log tables, one transaction per foldRead bytes, and returns how many
// logs it wrote and the position folded to. final: f's writer is gone, so a record cut short at its
// end will never be completed and is passed over. Records name their app.
func (b *Backend) foldSpool(ctx context.Context, f *os.File, format backend.LineFormat, final bool) (int, int64, error) {
	total := 0
	name := filepath.Base(f.Name())
	for {
		n, pos, more, err := b.foldSpoolOnce(ctx, f, name, format, final)
		total += n
		if err != nil || !more {
			return total, pos, err
		}
	}
}

// foldSpoolOnce is one transaction of foldSpool; more: f holds more.
func (b *Backend) foldSpoolOnce(ctx context.Context, f *os.File, name string, format backend.LineFormat, final bool) (n int, to int64, more bool, err error) {
	var dones []func()
	err = b.writeLazily(ctx, "folding the request-log spool "+name, func(tx *sql.Tx) error {
		n, to, more, dones = 0, 0, false, dones[:0]
		if _, err := os.Stat(f.Name()); errors.Is(err, os.ErrNotExist) {
			return nil // removed, after its last fold, since f was opened
		}
		var pos int64
		err := tx.QueryRowContext(ctx, `SELECT pos FROM log_spools WHERE name = ?`, name).Scan(&pos)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return dbErr(ctx, "reading the request-log spool's position", err)
		}
		data, err := readFrom(f, pos, foldRead)
		if err != nil {
			return fmt.Errorf("reading the request-log spool %s: %w", f.Name(), err)
		}
		logs, used := decodeSpool(data)
		more = len(data) == foldRead && used > 0
		if final && !more {
			used = len(data)
		}
		to = pos + int64(used)
		if used == 0 {
			return nil
		}
		byApp := map[string][]backend.RequestLog{}
		var apps []string
		for _, l := range logs {
			if byApp[l.App] == nil {
				apps = append(apps, l.App)
			}
			byApp[l.App] = append(byApp[l.App], l)
		}
		for _, app := range apps {
			if err := checkName("application id", app); err != nil {
				return fmt.Errorf("the request-log spool %s: %w", f.Name(), err)
			}
			done, err := b.recordLogs(ctx, tx, app, byApp[app], format)
			if err != nil {
				return err
			}
			dones = append(dones, done)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO log_spools (name, pos) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET pos = excluded.pos`, name, to)
		if err != nil {
			return dbErr(ctx, "recording the request-log spool's position", err)
		}
		n = len(logs)
		return nil
	})
	if err != nil {
		return 0, 0, false, err
	}
	for _, done := range dones {
		done()
	}
	return n, to, more, nil
}

// readFrom reads up to max bytes of f from off on.
func readFrom(f *os.File, off int64, max int) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := min(fi.Size()-off, int64(max))
	if size <= 0 {
		return nil, nil
	}
	data := make([]byte, size)
	n, err := f.ReadAt(data, off)
	if err == io.EOF {
		err = nil
	}
	return data[:n], err
}

// spoolFolded reports whether the spool f holds nothing past the position
// it was folded to. The position is read first, then the file's size: a
// position only grows, and the logs it covers were recorded in the same
// transaction, so a size not past it was folded, whatever was appended
// since. Any error answers false: the fold, under the lock, words it.
func (b *Backend) spoolFolded(ctx context.Context, f *os.File) bool {
	var pos int64
	err := b.db.QueryRowContext(ctx, `SELECT pos FROM log_spools WHERE name = ?`, filepath.Base(f.Name())).Scan(&pos)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Size() <= pos
}

// removeSpool removes a spool folded to its end, and its position: the
// file goes inside the transaction, so a reader that opens spools inside
// its own never finds the file without its position (which would have it
// folded again from the start).
func (b *Backend) removeSpool(ctx context.Context, f *os.File) error {
	name := filepath.Base(f.Name())
	return b.writeLazily(ctx, "removing the request-log spool "+name, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM log_spools WHERE name = ?`, name); err != nil {
			return dbErr(ctx, "removing the request-log spool", err)
		}
		if err := os.Remove(f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the request-log spool: %w", err)
		}
		return nil
	})
}

// foldSpools folds every spool of the store before a listing: those of
// live writers up to their last whole record, those whose writer is gone
// to their end, removing them. On a full disk, where nothing can be
// written, the listing goes on without what the spools hold.
func (b *Backend) foldSpools(ctx context.Context, format backend.LineFormat) error {
	err := b.foldEverySpool(ctx, format)
	if ns := (*NoSpaceError)(nil); errors.As(err, &ns) {
		return nil
	}
	return err
}

func (b *Backend) foldEverySpool(ctx context.Context, format backend.LineFormat) error {
	dir := filepath.Join(b.root, logDir, spoolDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing the request-log spools: %w", err)
	}
	for _, e := range entries {
		if err := b.foldSpoolNamed(ctx, filepath.Join(dir, e.Name()), format); err != nil {
			return err
		}
	}
	return nil
}

// foldSpoolNamed folds the spool at path, another process's or one this
// process left.
func (b *Backend) foldSpoolNamed(ctx context.Context, path string, format backend.LineFormat) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // removed since the listing, after its last fold
	}
	if err != nil {
		return fmt.Errorf("opening the request-log spool: %w", err)
	}
	defer f.Close() // releases the lock taken below
	gone := lockSpool(f)
	if !gone && b.spoolFolded(ctx, f) {
		// A live server's spool folded to its end, as it usually is (the
		// server folds every 20 ms): nothing to take the write lock for,
		// and nothing for this process to sync when it closes.
		return nil
	}
	if _, _, err := b.foldSpool(ctx, f, format, gone); err != nil {
		return err
	}
	if !gone {
		return nil
	}
	return b.removeSpool(ctx, f)
}

var _ backend.LogSpooler = (*Backend)(nil)
