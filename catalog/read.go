package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// lookupBatch is the most paths Lookup puts in one query.
const lookupBatch = 500

// objectCols are the objects columns in the order scanObject reads them.
const objectCols = `path, key, size, mod_time, version, state, attempts, last_error,
	dst_etag, checksum, upload_id, part_size, updated_at`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanString scans a one-column row of text.
func scanString(s scanner) (string, error) {
	var v string
	err := s.Scan(&v)
	return v, err
}

// scanObject reads one row selected with objectCols.
func scanObject(s scanner) (Object, error) {
	var o Object
	var state string
	var mod, upd int64
	err := s.Scan(&o.Path, &o.Key, &o.Size, &mod, &o.Version, &state, &o.Attempts, &o.LastError,
		&o.DstETag, &o.Checksum, &o.UploadID, &o.PartSize, &upd)
	if err != nil {
		return Object{}, err
	}
	o.State = State(state)
	o.ModTime = fromNanos(mod)
	o.UpdatedAt = fromNanos(upd)
	return o, nil
}

// Lookup returns the rows for the given paths that exist; missing paths are
// absent from the map. Paths are queried in batches of at most 500 per
// query, and the result reflects committed writes only.
func (db *DB) Lookup(ctx context.Context, paths []string) (map[string]Object, error) {
	if err := db.usable(false); err != nil {
		return nil, err
	}
	out := make(map[string]Object, len(paths))
	for start := 0; start < len(paths); start += lookupBatch {
		end := min(start+lookupBatch, len(paths))
		if err := db.lookupBatch(ctx, paths[start:end], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lookupBatch runs one IN query for paths and adds the rows found to out.
func (db *DB) lookupBatch(ctx context.Context, paths []string, out map[string]Object) error {
	q := "SELECT " + objectCols + " FROM objects WHERE path IN (?" +
		strings.Repeat(", ?", len(paths)-1) + ")"
	args := make([]any, len(paths))
	for i, p := range paths {
		args[i] = p
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("look up objects: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return fmt.Errorf("look up objects: %w", err)
		}
		out[o.Path] = o
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up objects: %w", err)
	}
	return nil
}

// Get returns the row for path; ok is false when there is none.
func (db *DB) Get(ctx context.Context, path string) (o Object, ok bool, err error) {
	if err := db.usable(false); err != nil {
		return Object{}, false, err
	}
	row := db.r.QueryRowContext(ctx, "SELECT "+objectCols+" FROM objects WHERE path = ?", path)
	o, err = scanObject(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Object{}, false, nil
	}
	if err != nil {
		return Object{}, false, fmt.Errorf("get object %q: %w", path, err)
	}
	return o, true, nil
}

// Parts returns the recorded parts of path ordered by Number (empty when
// none).
func (db *DB) Parts(ctx context.Context, path string) ([]Part, error) {
	if err := db.usable(false); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx,
		`SELECT path, number, size, etag, checksum FROM parts WHERE path = ? ORDER BY number`, path)
	if err != nil {
		return nil, fmt.Errorf("list parts of %q: %w", path, err)
	}
	defer rows.Close()
	var parts []Part
	for rows.Next() {
		var p Part
		if err := rows.Scan(&p.Path, &p.Number, &p.Size, &p.ETag, &p.Checksum); err != nil {
			return nil, fmt.Errorf("list parts of %q: %w", path, err)
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list parts of %q: %w", path, err)
	}
	return parts, nil
}

// Meta returns the value stored under key, or "" when unset.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	if err := db.usable(false); err != nil {
		return "", err
	}
	var v string
	err := db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get meta %q: %w", key, err)
	}
	return v, nil
}
