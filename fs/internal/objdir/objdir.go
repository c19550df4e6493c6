// Package objdir is what flat object stores (S3, Azure Blob) share to show
// their keys as a tree by fs/keys.go's rules: a tree path resolved back to
// its key (hashed segments found by listing their parent), and one listed
// level turned into ReadDir's entries (escaped names, the folder marker
// hidden, a file beside a same-named directory shown as fs.ClashName).
//
// A driver describes its store with a Store of functions; keys given to
// and returned by them are prefix-relative (the driver's own prefix cut
// off), but for Level, which lists full keys.
package objdir

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// Store is the part of a flat object store the tree functions use.
type Store struct {
	// Full maps a prefix-relative key (or key prefix) to the full one.
	Full func(key string) string
	// Level lists the direct children of the full key prefix base ("" or
	// ending in '/') page by page: files are full object keys, dirs full
	// common prefixes ending in '/'. fn returns false to stop early.
	Level func(ctx context.Context, base string, fn func(files, dirs []string) (more bool, err error)) error
	// ListDir returns the raw children of the prefix-relative directory
	// prefix ("" or ending in '/') and whether anything, even a hidden
	// folder marker, lies under it.
	ListDir func(ctx context.Context, prefix string) (children []Child, found bool, err error)
	// Head describes the object at a prefix-relative key; an error when
	// there is none.
	Head func(ctx context.Context, key string) (fs.Entry, error)
	// DirExists reports whether any object lies under the prefix-relative
	// key + "/".
	DirExists func(ctx context.Context, key string) (bool, error)
	// DirEntry is the entry of a directory at a tree path.
	DirEntry func(path string) fs.Entry
}

// Child is one raw child of a listed directory: a file (Entry set) or a
// sub-directory (a common prefix), named by its raw key segment.
type Child struct {
	Name  string
	IsDir bool
	Key   string   // prefix-relative key of a file
	Entry fs.Entry // a file's entry (Path is replaced)
}

// IsClash reports whether a path segment is fs.ClashName of a file name.
// Escaped names never contain the suffix (base64url and hex have no '%'),
// and valid names never contain fs.EscapeMark, so the suffix is
// unambiguous.
func IsClash(seg string) bool {
	return len(seg) > len(fs.ClashSuffix) && strings.HasSuffix(seg, fs.ClashSuffix)
}

// KeyOf maps a tree path to its prefix-relative key. clash reports that the
// last segment is a clash name (the file beside a same-named directory).
// Segments cut with a hash are found by listing their parent. A path that
// is not the canonical form of its key (fs.KeyToPath) does not exist.
func (s Store) KeyOf(ctx context.Context, p string) (key string, clash bool, err error) {
	segs := strings.Split(p, "/")
	last := len(segs) - 1
	if clash = IsClash(segs[last]); clash {
		segs[last] = strings.TrimSuffix(segs[last], fs.ClashSuffix)
	}
	canonical := strings.Join(segs, "/")
	key, exact := fs.PathToKey(canonical)
	if !exact {
		key = ""
		for i, seg := range segs {
			k, ok := fs.UnescapeSegment(seg)
			if !ok {
				if k, err = s.findSegment(ctx, key, seg); err != nil {
					return "", false, err
				}
			}
			key += k
			if i < last {
				key += "/"
			}
		}
	}
	if key == "" || fs.KeyToPath(key) != canonical {
		return "", false, fmt.Errorf("resolve %q: %w", p, fs.ErrNotExist)
	}
	return key, clash, nil
}

// findSegment lists the directory parent (a prefix-relative key, "" or
// ending in '/') for the child whose escaped name is seg, and returns the
// child's raw name.
func (s Store) findSegment(ctx context.Context, parent, seg string) (string, error) {
	base := s.Full(parent)
	name, found := "", false
	err := s.Level(ctx, base, func(files, dirs []string) (bool, error) {
		for _, f := range files {
			if n := strings.TrimPrefix(f, base); fs.EscapeSegment(n) == seg {
				name, found = n, true
				return false, nil
			}
		}
		for _, d := range dirs {
			if n := strings.TrimSuffix(strings.TrimPrefix(d, base), "/"); fs.EscapeSegment(n) == seg {
				name, found = n, true
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", seg, err)
	}
	if !found {
		return "", fmt.Errorf("resolve %q in %q: %w", seg, parent, fs.ErrNotExist)
	}
	return name, nil
}

// Stat describes the non-root path p. A directory exists when some object
// lies under "key/"; when a file and a directory share a name the
// directory wins and the file is fs.ClashName(name), as ReadDir shows
// them. It asks Head and DirExists concurrently.
func (s Store) Stat(ctx context.Context, p string) (fs.Entry, error) {
	key, clash, err := s.KeyOf(ctx, p)
	if err != nil {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, err)
	}
	type dirResult struct {
		ok  bool
		err error
	}
	dirc := make(chan dirResult, 1)
	go func() {
		ok, err := s.DirExists(ctx, key)
		dirc <- dirResult{ok, err}
	}()
	e, herr := s.Head(ctx, key)
	d := <-dirc
	if d.err != nil {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, d.err)
	}
	switch {
	case !clash && d.ok:
		return s.DirEntry(p), nil
	case clash && !d.ok:
		return fs.Entry{}, fmt.Errorf("stat %q: no directory %q beside the file: %w", p, strings.TrimSuffix(p, fs.ClashSuffix), fs.ErrNotExist)
	case herr != nil:
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, herr)
	}
	e.Path, e.Key = p, key
	if e.Key == e.Path {
		e.Key = ""
	}
	return e, nil
}

// ReadDir calls fn with the entries of directory dir ("" the root), sorted
// by name; a file is fs.ErrNotDir and nothing at dir fs.ErrNotExist.
// Errors from fn and ctx are returned as they are.
func (s Store) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	prefix := ""
	if dir != "" {
		key, clash, err := s.KeyOf(ctx, dir)
		if err != nil {
			return fmt.Errorf("read dir %q: %w", dir, err)
		}
		if clash {
			return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotDir)
		}
		prefix = key + "/"
	}
	children, found, err := s.ListDir(ctx, prefix)
	if err != nil {
		return fmt.Errorf("read dir %q: %w", dir, err)
	}
	if !found && dir != "" {
		if _, err := s.Head(ctx, strings.TrimSuffix(prefix, "/")); err == nil {
			return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotDir)
		}
		return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotExist)
	}
	for _, e := range s.Assemble(dir, children) {
		if err := fn(e); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Assemble turns one directory's raw children into the entries ReadDir
// shows at dir: names are escaped; the folder marker (the zero-size object
// named by the empty segment, shown as "%%") is hidden; a file whose name
// a directory also has is shown as fs.ClashName(name); entries come sorted
// by name.
func (s Store) Assemble(dir string, children []Child) []fs.Entry {
	dirs := make(map[string]bool)
	for _, c := range children {
		if c.IsDir {
			dirs[fs.EscapeSegment(c.Name)] = true
		}
	}
	out := make([]fs.Entry, 0, len(children))
	for _, c := range children {
		name := fs.EscapeSegment(c.Name)
		if c.IsDir {
			out = append(out, s.DirEntry(Join(dir, name)))
			continue
		}
		if c.Name == "" && c.Entry.Size == 0 {
			continue // folder marker: the directory itself shows instead
		}
		if dirs[name] {
			name = fs.ClashName(name)
		}
		e := c.Entry
		e.Path, e.Key = Join(dir, name), c.Key
		if e.Key == e.Path {
			e.Key = ""
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Join joins a directory path and a child name ("" is the root).
func Join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
