package urllist

import (
	"context"
	"fmt"
	iofs "io/fs"

	"github.com/ferry-project/ferry/fs"
)

// pageSize is the number of index rows Walk and ReadDir hold at a time.
const pageSize = 1000

// entry turns an index row into an Entry. Files and directories the servers
// give no date for carry the list file's modification time.
func (t *Tree) entry(r row) fs.Entry {
	e := fs.Entry{Path: r.path, ModTime: t.listTime}
	if r.dir {
		e.Mode = iofs.ModeDir | 0o555
		return e
	}
	e.Mode = 0o444
	e.Size = max(r.size, 0)
	e.Version = r.version
	if !r.mtime.IsZero() {
		e.ModTime = r.mtime
	}
	if r.key != r.path {
		e.Key = r.key
	}
	return e
}

// lookup returns the row at path or an error wrapping fs.ErrNotExist.
func (t *Tree) lookup(ctx context.Context, op, path string) (row, error) {
	if err := ctx.Err(); err != nil {
		return row{}, fmt.Errorf("%s %s: %w", op, path, err)
	}
	if path == "" {
		return row{dir: true}, nil
	}
	r, ok, err := t.ix.get(ctx, path)
	if err != nil {
		return row{}, fmt.Errorf("%s %s: %w", op, path, err)
	}
	if !ok {
		return row{}, fmt.Errorf("%s %s: %w", op, path, fs.ErrNotExist)
	}
	return r, nil
}

// Stat describes a file or directory; "" is the root.
func (t *Tree) Stat(ctx context.Context, path string) (fs.Entry, error) {
	r, err := t.lookup(ctx, "stat", path)
	if err != nil {
		return fs.Entry{}, err
	}
	return t.entry(r), nil
}

// ReadDir calls fn for each child of dir in byte order of name.
func (t *Tree) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	r, err := t.lookup(ctx, "read dir", dir)
	if err != nil {
		return err
	}
	if !r.dir {
		return fmt.Errorf("read dir %s: %w", dir, fs.ErrNotDir)
	}
	after := ""
	for {
		page, err := t.ix.children(ctx, dir, after, pageSize)
		if err != nil {
			return fmt.Errorf("read dir %s: %w", dir, err)
		}
		for _, r := range page {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("read dir %s: %w", dir, err)
			}
			if err := fn(t.entry(r)); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		_, after = parentName(page[len(page)-1].path)
	}
}

// Walk calls fn for every file whose path lies in rg, in byte order of path.
func (t *Tree) Walk(ctx context.Context, rg fs.Range, fn func(fs.Entry) error) error {
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("walk: %w", err)
		}
		page, err := t.ix.files(ctx, rg.Start, rg.End, after, pageSize)
		if err != nil {
			return fmt.Errorf("walk: %w", err)
		}
		for _, r := range page {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("walk: %w", err)
			}
			if err := fn(t.entry(r)); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].path
	}
}

// Open opens the URL at path for ranged reads, pinned to the version the
// tree describes (see file). For a URL listed as unreachable it returns the
// reason found while sizing it, wrapping fs.ErrNotExist, fs.ErrPermission
// or ErrUnreachable.
func (t *Tree) Open(ctx context.Context, path string) (fs.File, error) {
	r, err := t.openRow(ctx, path)
	if err != nil {
		return nil, err
	}
	return t.newFile(r), nil
}

// OpenEntry opens the file Walk, ReadDir or Stat described as e, pinned to
// that version: when a read has since found the URL changed (the tree then
// describes its new version), it returns an error wrapping fs.ErrChanged,
// and Stat gives the current entry. An e without Version is checked by
// size alone.
func (t *Tree) OpenEntry(ctx context.Context, e fs.Entry) (fs.File, error) {
	r, err := t.openRow(ctx, e.Path)
	if err != nil {
		return nil, err
	}
	if now := t.entry(r); now.Size != e.Size || (e.Version != "" && now.Version != e.Version) {
		return nil, fmt.Errorf("open %s: now version %s of %d bytes, walked as %s of %d bytes: %w",
			e.Path, now.Version, now.Size, e.Version, e.Size, fs.ErrChanged)
	}
	return t.newFile(r), nil
}

// openRow returns the row of a file that can be opened.
func (t *Tree) openRow(ctx context.Context, path string) (row, error) {
	r, err := t.lookup(ctx, "open", path)
	if err != nil {
		return row{}, err
	}
	if r.dir {
		return row{}, fmt.Errorf("open %s: %w", path, fs.ErrIsDir)
	}
	if r.err != "" {
		return row{}, fmt.Errorf("open %s: unreachable when listed: %w", path, &listedError{msg: r.err, kind: r.errkind})
	}
	return r, nil
}

// Checksum returns ("md5", hex) for a URL whose TSV line gave an MD5, and
// ("", "") for any other file.
func (t *Tree) Checksum(ctx context.Context, path string) (algo, hexsum string, err error) {
	r, err := t.lookup(ctx, "checksum", path)
	if err != nil {
		return "", "", err
	}
	if r.dir {
		return "", "", fmt.Errorf("checksum %s: %w", path, fs.ErrIsDir)
	}
	if r.md5 == "" {
		return "", "", nil
	}
	return "md5", r.md5, nil
}

// SequentialOnly reports whether path's server is known to ignore Range
// requests: its HEAD did not advertise "Accept-Ranges: bytes", or a ranged
// GET was answered with the whole body. URLs sized from a TSV list are
// assumed to support ranges until a read shows otherwise.
func (t *Tree) SequentialOnly(path string) bool {
	r, ok, err := t.ix.get(context.Background(), path)
	return err == nil && ok && r.ranges == rangesNo
}
