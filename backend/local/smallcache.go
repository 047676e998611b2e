package local

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// smallCacheConn is a connection of the store's pool taken for one reader
// with its page cache made small, and the cache_size to give it back with.
//
// SQLite keeps every page a connection reads in its cache, up to
// cache_size (2,000 pages by default), each page in memory of its own
// (8 KiB from modernc's allocator for a 4 KiB page): in a process as short
// as a deploy or a download, each is a fresh page of memory, a page fault
// (about 11 µs on a VM with shadow paging). A reader that reads each page
// once or twice (Prefetch's blob records, a log listing) does better with
// a small cache, which reuses its pages; a page read again comes from the
// OS's page cache (about 2 µs). The bytes read are the same either way.
type smallCacheConn struct {
	*sql.Conn
	pages int64 // the pool's cache_size, as PRAGMA cache_size reads it
}

// smallCache takes a connection from db's pool with its page cache bounded
// to pages; release gives it back as it was.
func smallCache(ctx context.Context, db *sql.DB, pages int) (*smallCacheConn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	s := &smallCacheConn{Conn: c}
	if err := c.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&s.pages); err != nil {
		c.Close()
		return nil, err
	}
	// PRAGMA takes no bound parameters; the value is our own integer.
	if _, err := c.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, pages)); err != nil {
		s.release(ctx)
		return nil, err
	}
	return s, nil
}

// release gives the connection back to the pool with its page cache as it
// was; one whose cache cannot be set back is closed instead, so no other
// use of the store (a deploy's writes) gets the small cache.
func (s *smallCacheConn) release(ctx context.Context) {
	if s == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := s.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, s.pages)); err != nil {
		s.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // the point is the pool's dropping it
	}
	s.Close()
}
