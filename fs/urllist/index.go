package urllist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The index is a throw-away SQLite database in its own temporary directory,
// opened through the database/sql driver the caller names (Options.SQLite):
// one row per file (its URL, size, MD5, …) and one per directory, keyed by
// tree path, with an index on (parent, name). Memory stays bounded whatever
// the list's length: Walk and ReadDir read it in pages.
const schema = `
CREATE TABLE entries (
	path    TEXT NOT NULL UNIQUE, -- tree path
	parent  TEXT NOT NULL,        -- parent directory's path ("" = root)
	name    TEXT NOT NULL,        -- last segment of path
	dir     INTEGER NOT NULL,     -- 1 directory, 0 file
	key     TEXT NOT NULL DEFAULT '', -- object key of a file
	url     TEXT NOT NULL DEFAULT '', -- the URL as listed
	line    INTEGER NOT NULL DEFAULT 0, -- list line of the URL
	size    INTEGER,              -- bytes; NULL until sized
	md5     TEXT NOT NULL DEFAULT '', -- listed MD5, lowercase hex
	mtime   INTEGER NOT NULL DEFAULT 0, -- Last-Modified, Unix seconds (0 unknown)
	version TEXT NOT NULL DEFAULT '',
	etag    TEXT NOT NULL DEFAULT '', -- ETag the probe saw ("" none)
	probed  INTEGER NOT NULL DEFAULT 0, -- 1 when size, etag and mtime are the server's (a probe)
	ranges  INTEGER NOT NULL DEFAULT 0, -- rangesUnknown, rangesYes or rangesNo
	err     TEXT NOT NULL DEFAULT '', -- why the URL could not be sized ("" ok)
	errkind INTEGER NOT NULL DEFAULT 0 -- kindNotExist, kindPermission or kindOther
);
`

// childIndex serves ReadDir. It is created once the list is loaded: one sort
// then is much cheaper than keeping it up to date row by row.
const childIndex = `CREATE INDEX entries_children ON entries(parent, name)`

// Range support of a URL's server, as far as the tree knows.
const (
	rangesUnknown = 0
	rangesYes     = 1
	rangesNo      = 2
)

// index is the SQLite database behind a Tree.
type index struct {
	db  *sql.DB
	dir string
}

// openIndex creates an empty index in a new directory under tmpDir ("" =
// the OS temp dir), through the SQL driver named sqlDriver.
func openIndex(ctx context.Context, tmpDir, sqlDriver string) (*index, error) {
	if sqlDriver == "" {
		return nil, errors.New("create index: no SQLite driver (Options.SQLite names one, e.g. \"sqlite3\" of github.com/mattn/go-sqlite3)")
	}
	dir, err := os.MkdirTemp(tmpDir, "ferry-urllist-")
	if err != nil {
		return nil, fmt.Errorf("create index dir: %w", err)
	}
	dsn := "file:" + filepath.Join(dir, "index.db") + "?_journal_mode=WAL&_synchronous=OFF&_busy_timeout=10000&_cache_size=-65536"
	db, err := sql.Open(sqlDriver, dsn)
	if err == nil {
		db.SetMaxOpenConns(4)
		_, err = db.ExecContext(ctx, schema)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create index: %w", err)
	}
	return &index{db: db, dir: dir}, nil
}

// indexChildren creates childIndex.
func (ix *index) indexChildren(ctx context.Context) error {
	if _, err := ix.db.ExecContext(ctx, childIndex); err != nil {
		return fmt.Errorf("index children: %w", err)
	}
	return nil
}

// close closes the database and removes its directory.
func (ix *index) close() error {
	err := ix.db.Close()
	if rerr := os.RemoveAll(ix.dir); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("remove index: %w", err)
	}
	return nil
}

// row is one entry of the index.
type row struct {
	path    string
	dir     bool
	key     string
	url     string
	line    int
	size    int64 // -1 while unsized
	md5     string
	mtime   time.Time
	version string
	etag    string // the probe's ETag, "" none
	probed  bool   // size, etag and mtime come from the server, not the list
	ranges  int
	err     string
	errkind int
}

const rowCols = `path, dir, key, url, line, COALESCE(size, -1), md5, mtime, version, etag, probed, ranges, err, errkind`

type scanner interface{ Scan(dest ...any) error }

func scanRow(s scanner) (row, error) {
	var r row
	var mtime int64
	err := s.Scan(&r.path, &r.dir, &r.key, &r.url, &r.line, &r.size, &r.md5, &mtime, &r.version, &r.etag, &r.probed, &r.ranges, &r.err, &r.errkind)
	if mtime != 0 {
		r.mtime = time.Unix(mtime, 0).UTC()
	}
	return r, err
}

// get returns the row at path; ok is false when there is none.
func (ix *index) get(ctx context.Context, path string) (r row, ok bool, err error) {
	r, err = scanRow(ix.db.QueryRowContext(ctx, `SELECT `+rowCols+` FROM entries WHERE path = ?`, path))
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, false, nil
	}
	if err != nil {
		return row{}, false, fmt.Errorf("query index: %w", err)
	}
	return r, true, nil
}

// query runs a SELECT of rowCols and returns every row.
func (ix *index) query(ctx context.Context, q string, args ...any) ([]row, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT `+rowCols+` FROM entries `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("query index: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("scan index: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query index: %w", err)
	}
	return out, nil
}

// children returns up to limit children of parent named after after, in
// byte order of name.
func (ix *index) children(ctx context.Context, parent, after string, limit int) ([]row, error) {
	return ix.query(ctx, `WHERE parent = ? AND name > ? ORDER BY name LIMIT ?`, parent, after, limit)
}

// files returns up to limit files whose path lies in [start, end) (no upper
// bound when end is "") and, when after is not "", comes after after; in
// byte order of path.
func (ix *index) files(ctx context.Context, start, end, after string, limit int) ([]row, error) {
	op, lo := ">=", start
	if after != "" {
		op, lo = ">", after
	}
	if end == "" {
		return ix.query(ctx, `WHERE path `+op+` ? AND dir = 0 ORDER BY path LIMIT ?`, lo, limit)
	}
	return ix.query(ctx, `WHERE path `+op+` ? AND path < ? AND dir = 0 ORDER BY path LIMIT ?`, lo, end, limit)
}

// unsized returns up to limit files after after that have no size yet.
func (ix *index) unsized(ctx context.Context, after string, limit int) ([]row, error) {
	return ix.query(ctx, `WHERE path > ? AND dir = 0 AND size IS NULL ORDER BY path LIMIT ?`, after, limit)
}

// setRanges records whether path's server honours Range requests.
func (ix *index) setRanges(ctx context.Context, path string, ranges int) error {
	if _, err := ix.db.ExecContext(ctx, `UPDATE entries SET ranges = ? WHERE path = ?`, ranges, path); err != nil {
		return fmt.Errorf("update index: %w", err)
	}
	return nil
}

// sized is what probing a URL found out.
type sized struct {
	path    string
	size    int64
	mtime   time.Time
	version string
	etag    string
	ranges  int
	err     string
	errkind int
}

// setSized records a batch of probe results in one transaction.
func (ix *index) setSized(ctx context.Context, batch []sized) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin index update: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `UPDATE entries SET size = ?, mtime = ?, version = ?, etag = ?, probed = 1, ranges = ?, err = ?, errkind = ? WHERE path = ?`)
	if err != nil {
		return fmt.Errorf("prepare index update: %w", err)
	}
	defer st.Close()
	for _, s := range batch {
		var mt int64
		if !s.mtime.IsZero() {
			mt = s.mtime.Unix()
		}
		if _, err := st.ExecContext(ctx, s.size, mt, s.version, s.etag, s.ranges, s.err, s.errkind, s.path); err != nil {
			return fmt.Errorf("update index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit index update: %w", err)
	}
	return nil
}
