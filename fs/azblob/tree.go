package azblob

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/objdir"
)

// Walk calls fn for every blob whose key lies in r, in key order, listing
// flat (1000 names a page, one page in memory, following the service's
// markers). Range bounds are compared with keys. The listing prefix is
// narrowed to what every key of [r.Start, r.End) shares, and at a
// container's root the listing starts near r.Start (the service's
// startFrom); names below r.Start are skipped either way. Entries carry
// Path = fs.KeyToPath(key) and Key = key when different; folder markers
// ("x/", Path "x/%%") are yielded so a copy recreates them.
//
// For a whole account, keys are "container/key": the containers are
// listed (names only), ordered as their paths sort, and each one whose
// keys meet r is walked in turn.
func (s *Store) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.bucket != nil {
		return s.bucket.walk(ctx, r, fn)
	}
	cprefix := ""
	if r.End != "" {
		cprefix, _, _ = strings.Cut(commonPrefix(r.Start, r.End), "/")
	}
	names, err := s.containers(ctx, cprefix)
	if err != nil {
		return fmt.Errorf("walk %s: %w", s.describe(), err)
	}
	for _, c := range names {
		cs := c + "/"
		var sub fs.Range
		if r.End != "" {
			switch {
			case strings.HasPrefix(r.End, cs):
				if sub.End = r.End[len(cs):]; sub.End == "" {
					return nil
				}
			case r.End <= cs:
				return nil // this container's keys and every later one's are ≥ End
			}
		}
		if r.Start != "" {
			switch {
			case strings.HasPrefix(r.Start, cs):
				sub.Start = r.Start[len(cs):]
			case r.Start > cs:
				continue // every key of this container is below Start
			}
		}
		err := s.open(c, "").walk(ctx, sub, func(e fs.Entry) error { return fn(inContainer(c, e)) })
		if err != nil {
			return err
		}
	}
	return nil
}

// inContainer turns an entry of container c's tree into one of the
// account's tree.
func inContainer(c string, e fs.Entry) fs.Entry {
	if e.Key != "" {
		e.Key = c + "/" + e.Key
	}
	e.Path = objdir.Join(c, e.Path)
	return e
}

// walk is Walk over one bucket. Errors from fn and ctx are returned as
// they are.
func (b *bucket) walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	lp := b.prefix
	if r.End != "" {
		lp += commonPrefix(r.Start, r.End)
	}
	startFrom := ""
	if lp == "" && r.Start != "" {
		// Only at the container's root is startFrom unambiguous (relative
		// to a prefix or not, it names the same blob).
		startFrom = startBelow(r.Start)
	}
	var stop error
	err := b.listFlat(ctx, lp, startFrom, func(items []*container.BlobItem) (bool, error) {
		for _, it := range items {
			if it.Name == nil || !strings.HasPrefix(*it.Name, b.prefix) {
				continue
			}
			rel := (*it.Name)[len(b.prefix):]
			if rel == "" || rel < r.Start {
				continue
			}
			if r.End != "" && rel >= r.End {
				return false, nil
			}
			if stop = fn(fileEntry(rel, itemProps(it))); stop != nil {
				return false, nil
			}
			if stop = ctx.Err(); stop != nil {
				return false, nil
			}
		}
		return true, nil
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		return fmt.Errorf("walk azblob://%s/%s/%s: %w", b.s.account, b.name, b.prefix, err)
	}
	return nil
}

// ReadDir calls fn for each child of dir in byte order of names, listing
// one level (delimiter "/"). It holds that one directory's entries in
// memory, since escaped and clashing names sort apart from their keys.
// Folder markers are hidden; a file sharing a directory's name is shown as
// fs.ClashName(name). An absent dir gives fs.ErrNotExist, a file
// fs.ErrNotDir. For a whole account the root lists the containers.
func (s *Store) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.bucket != nil {
		return s.bucket.readDir(ctx, dir, fn)
	}
	if dir == "" {
		names, err := s.containers(ctx, "")
		if err != nil {
			return fmt.Errorf("read dir %q: %w", dir, err)
		}
		// Containers hold no characters that sort apart from '/': plain
		// name order is the order of their paths as names.
		slices.Sort(names)
		for _, c := range names {
			if err := fn(dirEntry(c)); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	c, sub, _ := strings.Cut(dir, "/")
	if !validContainer(c) {
		return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotExist)
	}
	return s.open(c, "").readDir(ctx, sub, func(e fs.Entry) error { return fn(inContainer(c, e)) })
}

// readDir is ReadDir within one bucket.
func (b *bucket) readDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	return b.dir().ReadDir(ctx, dir, fn)
}

// listDir lists the direct children of the prefix-relative directory key
// prefix ("" or ending in '/'). found reports whether anything, even a
// hidden folder marker, lies under it.
func (b *bucket) listDir(ctx context.Context, prefix string) (children []objdir.Child, found bool, err error) {
	base := b.full(prefix)
	err = b.listLevel(ctx, base, func(blobs []*container.BlobItem, dirs []string) (bool, error) {
		for _, it := range blobs {
			if it.Name == nil {
				continue
			}
			found = true
			rel := strings.TrimPrefix(*it.Name, b.prefix)
			if rel == "" {
				continue // the prefix's own folder marker
			}
			children = append(children, objdir.Child{Name: rel[len(prefix):], Key: rel, Entry: fileEntry(rel, itemProps(it))})
		}
		for _, d := range dirs {
			found = true
			children = append(children, objdir.Child{Name: strings.TrimSuffix(d[len(base):], "/"), IsDir: true})
		}
		return true, nil
	})
	return children, found, err
}

// Stat describes path. A directory exists when some blob lies under
// "key/"; when a file and a directory share a name the directory wins and
// the file is fs.ClashName(name), as ReadDir shows them. For a whole
// account a top-level name is a container.
func (s *Store) Stat(ctx context.Context, p string) (fs.Entry, error) {
	if err := ctx.Err(); err != nil {
		return fs.Entry{}, err
	}
	if p == "" {
		return dirEntry(""), nil
	}
	if s.bucket != nil {
		return s.bucket.stat(ctx, p)
	}
	c, sub, _ := strings.Cut(p, "/")
	if !validContainer(c) {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, fs.ErrNotExist)
	}
	b := s.open(c, "")
	if sub == "" {
		if _, err := b.cc.GetProperties(ctx, nil); err != nil {
			return fs.Entry{}, fmt.Errorf("stat %q: %w", p, wrap("get container properties", c, err))
		}
		return dirEntry(c), nil
	}
	e, err := b.stat(ctx, sub)
	if err != nil {
		return fs.Entry{}, fmt.Errorf("in container %s: %w", c, err)
	}
	return inContainer(c, e), nil
}

// stat is Stat within one bucket. It issues Get Properties and the
// one-name listing concurrently.
func (b *bucket) stat(ctx context.Context, p string) (fs.Entry, error) {
	return b.dir().Stat(ctx, p)
}
