package urllist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ferry-project/ferry/fs"
)

const (
	// buildBatch is the number of list lines written per index transaction.
	buildBatch = 5000
	// maxKnownDirs bounds the builder's cache of existing directories.
	maxKnownDirs = 1 << 16
)

// builder streams a list's records into the index.
//
// Duplicates: the first URL that maps to a path wins; every later one is
// logged (with both line numbers) and skipped. Clashes: when a URL's path is
// also a directory of other URLs (http://h/a and http://h/a/b), the
// directory keeps the name and the file is shown as fs.ClashName(name); its
// key is unchanged.
type builder struct {
	ix   *index
	log  *slog.Logger
	tx   *sql.Tx
	rows int
	// dirs holds directories known to exist (at most maxKnownDirs), so
	// that most lines need no directory lookups.
	dirs                         map[string]struct{}
	get, insDir, insFile, rename *sql.Stmt
	files, dups                  int
}

// build reads every record of lr into ix.
func build(ctx context.Context, ix *index, lr *listReader, log *slog.Logger) (files, dups int, err error) {
	b := &builder{ix: ix, log: log, dirs: map[string]struct{}{}}
	defer b.rollback()
	for {
		rec, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		if err := b.add(ctx, rec); err != nil {
			return 0, 0, err
		}
	}
	if err := b.commit(); err != nil {
		return 0, 0, err
	}
	if err := ix.indexChildren(ctx); err != nil {
		return 0, 0, err
	}
	return b.files, b.dups, nil
}

// begin starts a transaction and prepares its statements.
func (b *builder) begin(ctx context.Context) error {
	tx, err := b.ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin index write: %w", err)
	}
	b.tx, b.rows = tx, 0
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&b.get, `SELECT dir, line FROM entries WHERE path = ?`},
		{&b.insDir, `INSERT INTO entries (path, parent, name, dir) VALUES (?, ?, ?, 1)`},
		{&b.insFile, `INSERT OR IGNORE INTO entries (path, parent, name, dir, key, url, line, size, md5, version) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`},
		{&b.rename, `UPDATE entries SET path = ?, name = ? WHERE path = ?`},
	} {
		if *s.st, err = tx.PrepareContext(ctx, s.q); err != nil {
			return fmt.Errorf("prepare index write: %w", err)
		}
	}
	return nil
}

func (b *builder) commit() error {
	if b.tx == nil {
		return nil
	}
	err := b.tx.Commit()
	b.tx = nil
	if err != nil {
		return fmt.Errorf("commit index write: %w", err)
	}
	return nil
}

func (b *builder) rollback() {
	if b.tx != nil {
		b.tx.Rollback()
		b.tx = nil
	}
}

// add writes one record: its ancestor directories, then the file.
func (b *builder) add(ctx context.Context, rec record) error {
	_, key, err := urlKey(rec.url)
	if err != nil {
		return fmt.Errorf("list line %d: %w", rec.line, err)
	}
	if b.tx == nil {
		if err := b.begin(ctx); err != nil {
			return err
		}
	}
	p := fs.KeyToPath(key)
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			if err := b.ensureDir(ctx, p[:i]); err != nil {
				return err
			}
		}
	}
	var size any
	version := "unsized"
	if rec.size >= 0 {
		size = rec.size
		version = fmt.Sprintf("size-%d", rec.size)
		if rec.md5 != "" {
			version = "md5-" + rec.md5
		}
	}
	added, err := b.insertFile(ctx, p, key, size, version, rec)
	if err != nil {
		return err
	}
	if !added {
		// p is taken: by a directory (the file gets the clash name) or by
		// an earlier URL.
		if isDir, _, _, err := b.lookup(ctx, p); err != nil {
			return err
		} else if isDir {
			p += fs.ClashSuffix
			if added, err = b.insertFile(ctx, p, key, size, version, rec); err != nil {
				return err
			}
		}
	}
	if added {
		b.files++
	} else {
		_, first, _, _ := b.lookup(ctx, p)
		b.log.Warn("urllist: duplicate URL skipped", "line", rec.line, "first_line", first, "path", p)
		b.dups++
	}
	if b.rows++; b.rows >= buildBatch {
		return b.commit()
	}
	return nil
}

// insertFile adds a file at p unless p is taken.
func (b *builder) insertFile(ctx context.Context, p, key string, size any, version string, rec record) (bool, error) {
	parent, name := parentName(p)
	res, err := b.insFile.ExecContext(ctx, p, parent, name, key, rec.url, rec.line, size, rec.md5, version)
	if err != nil {
		return false, fmt.Errorf("list line %d: add %q to index: %w", rec.line, p, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("list line %d: add %q to index: %w", rec.line, p, err)
	}
	return n > 0, nil
}

// lookup reports whether path is in the index, whether it is a directory and
// the list line of a file.
func (b *builder) lookup(ctx context.Context, path string) (isDir bool, line int, found bool, err error) {
	err = b.get.QueryRowContext(ctx, path).Scan(&isDir, &line)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, false, nil
	}
	if err != nil {
		return false, 0, false, fmt.Errorf("query index: %w", err)
	}
	return isDir, line, true, nil
}

// ensureDir adds directory d unless present; a file already at d is renamed
// to its clash name.
func (b *builder) ensureDir(ctx context.Context, d string) error {
	if _, ok := b.dirs[d]; ok {
		return nil
	}
	if len(b.dirs) >= maxKnownDirs {
		clear(b.dirs)
	}
	b.dirs[d] = struct{}{}
	isDir, _, found, err := b.lookup(ctx, d)
	if err != nil || (found && isDir) {
		return err
	}
	parent, name := parentName(d)
	if found {
		b.log.Info("urllist: file shown under a clash name: a directory has its name", "path", d, "shown_as", d+fs.ClashSuffix)
		if _, err := b.rename.ExecContext(ctx, d+fs.ClashSuffix, name+fs.ClashSuffix, d); err != nil {
			return fmt.Errorf("rename %q in index: %w", d, err)
		}
	}
	if _, err := b.insDir.ExecContext(ctx, d, parent, name); err != nil {
		return fmt.Errorf("add directory %q to index: %w", d, err)
	}
	return nil
}
