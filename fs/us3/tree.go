package us3

import (
	"context"
	"fmt"
	iofs "io/fs"
	"sort"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

const (
	fileMode = iofs.FileMode(0o444)
	dirMode  = iofs.ModeDir | 0o555
)

// fileEntry builds the Entry of an object whose key relative to the prefix
// is rel, shown at path p.
func fileEntry(p, rel string, o object) fs.Entry {
	e := fs.Entry{
		Path: p, Size: o.size(), ModTime: o.modTime(), Mode: fileMode,
		Version: strings.Trim(o.ETag, `"`), ETag: strings.Trim(o.ETag, `"`),
	}
	if rel != p {
		e.Key = rel
	}
	return e
}

// Walk calls fn for every object whose key (relative to the prefix) lies
// in [PathToKey(r.Start), PathToKey(r.End)), in key order, listing flat
// 1000 keys per request from a marker just below the start. Entry.Path is
// fs.KeyToPath(key) (no clash renaming: a key "a" beside "a/b" walks as
// "a"), Entry.Key the key when it differs. Folder markers ("x/") are
// yielded as "x/%%"; the marker of the prefix itself is skipped. For keys
// whose path is escaped, key order and path order can differ; ranges are
// compared on keys so that ranges cut from paths still partition the keys.
func (s *Store) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	startKey, _ := fs.PathToKey(r.Start)
	endKey, _ := fs.PathToKey(r.End)
	if r.Start == "" {
		startKey = ""
	}
	if r.End != "" && endKey <= startKey {
		return ctx.Err()
	}
	marker := ""
	if startKey != "" {
		marker = s.prefix + markerBefore(startKey)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := s.listObjects(ctx, s.prefix, marker, "", listPage)
		if err != nil {
			return fmt.Errorf("walk %s: %w", s.describe(), err)
		}
		for _, o := range page.Contents {
			rel := strings.TrimPrefix(o.Key, s.prefix)
			if rel == "" || rel < startKey || !strings.HasPrefix(o.Key, s.prefix) {
				continue
			}
			if r.End != "" && rel >= endKey {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			e := fileEntry(fs.KeyToPath(rel), rel, o)
			if o.StorageClass == archiveClass {
				if e.Archive, err = s.archiveState(ctx, o.Key); err != nil {
					return fmt.Errorf("walk %s: %w", s.describe(), err)
				}
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		next, more := nextMarker(page)
		if !more {
			return nil
		}
		marker = next
	}
}

// describe names the tree in errors.
func (s *Store) describe() string {
	return "us3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

// dirPrefix is the full listing prefix of a directory given by its key
// relative to the prefix ("" for the root).
func (s *Store) dirPrefix(rel string) string {
	if rel == "" {
		return s.prefix
	}
	return s.prefix + rel + "/"
}

// child is one name of a one-level listing.
type child struct {
	name  string // raw key segment
	isDir bool
	obj   object
}

// listDir calls fn for every child of the directory prefix dp, page by
// page, in the service's order. It reports whether anything at all (the
// folder marker included) lies under dp.
func (s *Store) listDir(ctx context.Context, dp string, fn func(child) error) (found bool, err error) {
	marker := ""
	for {
		page, err := s.listObjects(ctx, dp, marker, "/", listPage)
		if err != nil {
			return found, err
		}
		for _, cp := range page.CommonPrefixes {
			found = true
			name := strings.TrimSuffix(strings.TrimPrefix(cp.Prefix, dp), "/")
			if err := fn(child{name: name, isDir: true}); err != nil {
				return found, err
			}
		}
		for _, o := range page.Contents {
			found = true
			if o.Key == dp {
				continue // the directory's own folder marker
			}
			if err := fn(child{name: strings.TrimPrefix(o.Key, dp), obj: o}); err != nil {
				return found, err
			}
		}
		next, more := nextMarker(page)
		if !more {
			return found, nil
		}
		marker = next
	}
}

// ReadDir lists one level (delimiter "/") and calls fn for each child in
// byte order of the shown names. Names are fs.EscapeSegment of the key
// segment; a file whose name a directory also has is shown as
// fs.ClashName; the directory's own folder marker is hidden. It holds one
// directory's names in memory to sort them.
func (s *Store) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	rel := ""
	if dir != "" {
		t, err := s.resolve(ctx, dir)
		if err != nil {
			return fmt.Errorf("read dir %q: %w", dir, err)
		}
		if t.clash {
			return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotDir)
		}
		rel = t.rel
	}
	dp := s.dirPrefix(rel)
	var kids []child
	dirs := map[string]bool{}
	found, err := s.listDir(ctx, dp, func(c child) error {
		kids = append(kids, c)
		if c.isDir {
			dirs[c.name] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read dir %q: %w", dir, err)
	}
	if !found && dir != "" {
		if _, herr := s.head(ctx, s.fullKey(rel)); herr == nil {
			return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotDir)
		}
		return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotExist)
	}
	entries := make([]fs.Entry, 0, len(kids))
	for _, c := range kids {
		name := fs.EscapeSegment(c.name)
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		if c.isDir {
			entries = append(entries, fs.Entry{Path: p, Mode: dirMode})
			continue
		}
		if dirs[c.name] {
			p += fs.ClashSuffix
		}
		entries = append(entries, fileEntry(p, joinRel(rel, c.name), c.obj))
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// joinRel joins a directory key and a child segment.
func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// Stat describes path: the root, a directory (some key lies under
// path+"/": a one-key listing) or an object (HEAD). A directory wins over
// a file of the same name, which is reachable as fs.ClashName(path).
func (s *Store) Stat(ctx context.Context, p string) (fs.Entry, error) {
	if p == "" {
		if err := ctx.Err(); err != nil {
			return fs.Entry{}, err
		}
		return fs.Entry{Path: "", Mode: dirMode}, nil
	}
	t, err := s.resolve(ctx, p)
	if err != nil {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, err)
	}
	isDir, err := s.dirExists(ctx, t.rel)
	if err != nil {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, err)
	}
	if isDir && !t.clash {
		return fs.Entry{Path: p, Mode: dirMode}, nil
	}
	if t.clash && !isDir {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, fs.ErrNotExist)
	}
	resp, err := s.head(ctx, s.fullKey(t.rel))
	if err != nil {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, err)
	}
	o := object{Key: s.fullKey(t.rel), ETag: resp.Header.Get("ETag")}
	e := fileEntry(p, t.rel, o)
	e.Size = resp.ContentLength
	e.ModTime = modTimeOf(resp.Header)
	e.Archive = archiveOf(resp.Header)
	return e, nil
}

// dirExists reports whether any key lies under rel+"/".
func (s *Store) dirExists(ctx context.Context, rel string) (bool, error) {
	l, err := s.listObjects(ctx, s.dirPrefix(rel), "", "", 1)
	if err != nil {
		return false, err
	}
	return len(l.Contents) > 0 || len(l.CommonPrefixes) > 0, nil
}
