package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Writer applies changes inside one Write transaction. It is valid only
// during the fn passed to Write and is not safe for concurrent use.
type Writer struct {
	ctx   context.Context // the Write call's context, for its duration only
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	done  bool
}

// Write runs fn in one transaction on the writer connection: committed when
// fn returns nil, rolled back when fn returns an error (returned unchanged)
// or panics. Writes from many goroutines are serialised. fn must not call
// Write or SetMeta itself (the single writer connection is busy), but may
// read through Get, Lookup and the others, which do not see its uncommitted
// changes.
func (db *DB) Write(ctx context.Context, fn func(w *Writer) error) error {
	if err := db.usable(true); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin catalog write: %w", err)
	}
	w := &Writer{ctx: ctx, tx: tx, stmts: make(map[string]*sql.Stmt)}
	committed := false
	defer func() {
		w.done = true
		if !committed {
			tx.Rollback()
		}
	}()
	if err := fn(w); err != nil {
		return err
	}
	w.done = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit catalog write: %w", err)
	}
	committed = true
	return nil
}

// exec runs query with args through a statement prepared once per Write.
func (w *Writer) exec(query string, args ...any) (sql.Result, error) {
	if w.done {
		return nil, ErrClosed
	}
	st, ok := w.stmts[query]
	if !ok {
		var err error
		if st, err = w.tx.PrepareContext(w.ctx, query); err != nil {
			return nil, err
		}
		w.stmts[query] = st
	}
	return st.ExecContext(w.ctx, args...)
}

const putObjectSQL = `INSERT INTO objects
	(path, key, size, mod_time, version, state, attempts, last_error, dst_etag, checksum, upload_id, part_size, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT(path) DO UPDATE SET
	key = excluded.key, size = excluded.size, mod_time = excluded.mod_time, version = excluded.version,
	state = excluded.state, attempts = excluded.attempts, last_error = excluded.last_error,
	dst_etag = excluded.dst_etag, checksum = excluded.checksum, upload_id = excluded.upload_id,
	part_size = excluded.part_size, updated_at = excluded.updated_at`

// PutObject inserts o or replaces every column of the existing row with the
// same Path. An empty State is stored as StatePending; UpdatedAt is set to
// now. The object's parts are left alone (DeleteParts removes them).
func (w *Writer) PutObject(o Object) error {
	if o.Path == "" {
		return fmt.Errorf("put object: empty path")
	}
	if o.State == "" {
		o.State = StatePending
	}
	if !o.State.Valid() {
		return fmt.Errorf("put object %q: unknown state %q", o.Path, o.State)
	}
	_, err := w.exec(putObjectSQL, o.Path, o.Key, o.Size, nanos(o.ModTime), o.Version, string(o.State),
		o.Attempts, o.LastError, o.DstETag, o.Checksum, o.UploadID, o.PartSize, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("put object %q: %w", o.Path, err)
	}
	return nil
}

// SetState sets the state and last error of an existing object and bumps
// UpdatedAt; Attempts and every other column are unchanged. A path without
// a row gives an error wrapping ErrNotFound.
func (w *Writer) SetState(path string, s State, lastErr string) error {
	if !s.Valid() {
		return fmt.Errorf("set state of %q: unknown state %q", path, s)
	}
	res, err := w.exec(`UPDATE objects SET state = ?, last_error = ?, updated_at = ? WHERE path = ?`,
		string(s), lastErr, time.Now().UnixNano(), path)
	if err != nil {
		return fmt.Errorf("set state of %q: %w", path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("set state of %q: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("set state of %q: %w", path, ErrNotFound)
	}
	return nil
}

// AddPart inserts a finished part or replaces the one with the same Path and
// Number. The object's row must exist by the time Write commits (it may be
// put later in the same Write); otherwise the commit fails.
func (w *Writer) AddPart(p Part) error {
	if p.Path == "" || p.Number < 0 {
		return fmt.Errorf("add part %d of %q: invalid path or number", p.Number, p.Path)
	}
	_, err := w.exec(`INSERT INTO parts (path, number, size, etag, checksum) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(path, number) DO UPDATE SET
		size = excluded.size, etag = excluded.etag, checksum = excluded.checksum`,
		p.Path, p.Number, p.Size, p.ETag, p.Checksum)
	if err != nil {
		return fmt.Errorf("add part %d of %q: %w", p.Number, p.Path, err)
	}
	return nil
}

// DeleteParts removes every recorded part of path (none is not an error).
func (w *Writer) DeleteParts(path string) error {
	if _, err := w.exec(`DELETE FROM parts WHERE path = ?`, path); err != nil {
		return fmt.Errorf("delete parts of %q: %w", path, err)
	}
	return nil
}

// SetMeta stores value under key in the catalog's meta table (one
// transaction of its own).
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	if err := db.usable(true); err != nil {
		return err
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("set meta %q: %w", key, err)
	}
	return nil
}
