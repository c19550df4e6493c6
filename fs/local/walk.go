package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// errWalkDone ends a walk early once every remaining path is past the
// range's End. It never leaves Walk.
var errWalkDone = errors.New("walk done")

// walkItem is one name of a directory being walked; key is the name with
// '/' appended for a directory, the order Walk visits names in.
type walkItem struct {
	key string
	de  os.DirEntry
}

// Walk calls fn for every regular file whose path lies in r, in byte order
// of path, depth first. Each directory's names are read once (one
// os.ReadDir) and sorted with '/' appended to directory names, so "a-c"
// comes before "a/b" as in a flat key listing; at most one directory's
// names per level are held. Directories entirely outside r are not read.
//
// An unreadable root is an error. A subdirectory that cannot be read (no
// permission, removed meanwhile, I/O error) does not abort the walk: it is
// logged with slog at level Warn, the names it did yield (usually none) are
// walked, and the walk goes on. Entries that are not served (see Tree) are
// skipped and logged the same way.
func (t *Tree) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	err := t.walkDir(ctx, "", t.root, r, fn)
	if errors.Is(err, errWalkDone) {
		return nil
	}
	return err
}

// walkDir walks the directory at tree path dir (OS path abs).
func (t *Tree) walkDir(ctx context.Context, dir, abs string, r fs.Range, fn func(fs.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("walk %q: %w", dir, err)
	}
	des, err := os.ReadDir(abs)
	if err != nil {
		if dir == "" {
			return fmt.Errorf("walk %q: %w", t.root, err)
		}
		t.log.Warn("walk: skipping unreadable directory", "path", abs, "err", err, "names_read", len(des))
	}
	items := make([]walkItem, 0, len(des))
	for _, de := range des {
		if sinkState(dir, de.Name()) {
			continue
		}
		it := walkItem{key: de.Name(), de: de}
		if de.IsDir() {
			it.key += "/"
		}
		items = append(items, it)
	}
	des = nil
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	for _, it := range items {
		p := join(dir, it.key) // ends in '/' for a directory
		if r.End != "" && p >= r.End {
			return errWalkDone // so is every later path of the walk
		}
		if it.de.IsDir() {
			if p < r.Start && !strings.HasPrefix(r.Start, p) {
				continue // every path under p sorts before Start
			}
			name := it.de.Name()
			if err := t.walkDir(ctx, join(dir, name), filepath.Join(abs, name), r, fn); err != nil {
				return err
			}
			continue
		}
		if p < r.Start {
			continue
		}
		fi, ok := t.info(abs, it.de, slog.LevelWarn)
		if !ok || fi.IsDir() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("walk %q: %w", dir, err)
		}
		if err := fn(entry(p, fi)); err != nil {
			return err
		}
	}
	return nil
}
