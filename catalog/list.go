package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// listPage is how many rows List reads per query. Each page is its own
// short read transaction, so a slow consumer never pins the WAL.
const listPage = 1000

// Stats are aggregate counts over every object in the catalog.
type Stats struct {
	Total        int64           // number of objects
	Bytes        int64           // sum of their sizes
	ByState      map[State]int64 // objects per state (states with none absent)
	BytesByState map[State]int64 // bytes per state
	FirstUpdate  time.Time       // oldest UpdatedAt (zero when empty)
	LastUpdate   time.Time       // newest UpdatedAt (zero when empty)
}

// Stats counts objects and bytes, in total and per state. The maps are
// never nil.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	s := Stats{ByState: map[State]int64{}, BytesByState: map[State]int64{}}
	if err := db.usable(false); err != nil {
		return s, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT state, count(*), coalesce(sum(size), 0),
		min(updated_at), max(updated_at) FROM objects GROUP BY state`)
	if err != nil {
		return s, fmt.Errorf("count objects: %w", err)
	}
	defer rows.Close()
	var first, last int64
	for rows.Next() {
		var state string
		var n, bytes, lo, hi int64
		if err := rows.Scan(&state, &n, &bytes, &lo, &hi); err != nil {
			return s, fmt.Errorf("count objects: %w", err)
		}
		s.ByState[State(state)] = n
		s.BytesByState[State(state)] = bytes
		s.Total += n
		s.Bytes += bytes
		if first == 0 || lo < first {
			first = lo
		}
		last = max(last, hi)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("count objects: %w", err)
	}
	s.FirstUpdate, s.LastUpdate = fromNanos(first), fromNanos(last)
	return s, nil
}

// ListOptions select the objects List visits.
type ListOptions struct {
	State  State  // only objects in this state; "" = all
	Prefix string // only paths starting with Prefix (byte-wise, no wildcards)
	After  string // only paths > After (a resume cursor)
	Limit  int    // at most this many objects; 0 = no limit
}

// List calls fn for each selected object in byte order of Path, streamed a
// page at a time (never the whole result in memory). An error from fn stops
// the listing and is returned unchanged. Each page is read in its own
// transaction, so writes made meanwhile (also by fn) may show up in later
// pages; fn may call any DB method, Write included.
func (db *DB) List(ctx context.Context, o ListOptions, fn func(Object) error) error {
	if err := db.usable(false); err != nil {
		return err
	}
	if o.State != "" && !o.State.Valid() {
		return fmt.Errorf("list objects: unknown state %q", o.State)
	}
	if o.Limit < 0 {
		return fmt.Errorf("list objects: negative limit %d", o.Limit)
	}
	cursor, left := o.After, o.Limit
	for {
		n := listPage
		if o.Limit > 0 {
			n = min(n, left)
		}
		page, err := db.listPage(ctx, o, cursor, n)
		if err != nil {
			return err
		}
		for _, obj := range page {
			if err := fn(obj); err != nil {
				return err
			}
		}
		if len(page) < n {
			return nil
		}
		cursor = page[len(page)-1].Path
		if o.Limit > 0 {
			if left -= len(page); left == 0 {
				return nil
			}
		}
	}
}

// listPage reads up to n selected objects with path > cursor.
func (db *DB) listPage(ctx context.Context, o ListOptions, cursor string, n int) ([]Object, error) {
	var where strings.Builder
	where.WriteString("path > ?")
	args := []any{cursor}
	if o.State != "" {
		where.WriteString(" AND state = ?")
		args = append(args, string(o.State))
	}
	if o.Prefix != "" {
		where.WriteString(" AND path >= ?")
		args = append(args, o.Prefix)
		if end, ok := prefixEnd(o.Prefix); ok {
			where.WriteString(" AND path < ?")
			args = append(args, end)
		}
	}
	args = append(args, n)
	rows, err := db.r.QueryContext(ctx,
		"SELECT "+objectCols+" FROM objects WHERE "+where.String()+" ORDER BY path LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	defer rows.Close()
	page := make([]Object, 0, n)
	for rows.Next() {
		obj, err := scanObject(rows)
		if err != nil {
			return nil, fmt.Errorf("list objects: %w", err)
		}
		page = append(page, obj)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	return page, nil
}

// prefixEnd returns the least string greater than every string that starts
// with prefix (byte-wise), or ok=false when there is none (all 0xff bytes).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
