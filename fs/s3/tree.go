package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/objdir"
)

// Walk calls fn for every object whose prefix-relative key lies in r, in
// key order, listing flat (ListObjectsV2 with StartAfter, 1000 keys a page,
// one page in memory). Range bounds are compared with keys (for keys that
// need no escaping, key and Path are equal). Entries carry Path =
// fs.KeyToPath(key) and Key = key when different; the clash rule of ReadDir
// is not applied, and folder markers ("x/", Path "x/%%") are yielded so a
// copy recreates them. The marker of the prefix itself is not.
func (s *Store) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := listReq{prefix: s.prefix}
	if r.Start != "" {
		req.startAfter = s.full(startAfterFor(r.Start))
	}
	var stop error // from fn or ctx: returned as it is
	err := s.list(ctx, req, func(pg page) (bool, error) {
		for _, o := range pg.objects {
			rel := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if rel == "" || rel < r.Start {
				continue
			}
			if r.End != "" && rel >= r.End {
				return false, nil
			}
			if stop = fn(objectEntry(rel, o)); stop != nil {
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
		return fmt.Errorf("walk %s/%s: %w", s.bucket, s.prefix, err)
	}
	return nil
}

// ReadDir calls fn for each child of dir in byte order of names, listing
// one level (Delimiter "/"). It holds that one directory's entries in
// memory, since escaped and clashing names sort apart from their keys.
// Folder markers are hidden; a file sharing a directory's name is shown as
// fs.ClashName(name). An absent dir gives fs.ErrNotExist, a file
// fs.ErrNotDir; the root always exists.
func (s *Store) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.dir().ReadDir(ctx, dir, fn)
}

// listDir lists the direct children of the prefix-relative directory key
// prefix ("" or ending in '/'). found reports whether anything, even a
// hidden folder marker, lies under it.
func (s *Store) listDir(ctx context.Context, prefix string) (children []objdir.Child, found bool, err error) {
	base := s.full(prefix)
	err = s.list(ctx, listReq{prefix: base, delimiter: "/"}, func(pg page) (bool, error) {
		for _, o := range pg.objects {
			found = true
			rel := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if rel == "" {
				continue // the prefix's own folder marker
			}
			children = append(children, objdir.Child{Name: rel[len(prefix):], Key: rel, Entry: objectEntry(rel, o)})
		}
		for _, p := range pg.prefixes {
			found = true
			children = append(children, objdir.Child{Name: strings.TrimSuffix(p[len(base):], "/"), IsDir: true})
		}
		return true, nil
	})
	return children, found, err
}

// Stat describes path. A directory exists when some key lies under
// "key/"; when a file and a directory share a name the directory wins and
// the file is fs.ClashName(name), as ReadDir shows them. It issues the
// HeadObject and the one-key listing concurrently.
func (s *Store) Stat(ctx context.Context, p string) (fs.Entry, error) {
	if err := ctx.Err(); err != nil {
		return fs.Entry{}, err
	}
	if p == "" {
		return dirEntry(""), nil
	}
	return s.dir().Stat(ctx, p)
}

// dirExists reports whether any key lies under "key/".
func (s *Store) dirExists(ctx context.Context, key string) (bool, error) {
	found := false
	err := s.list(ctx, listReq{prefix: s.full(key + "/"), maxKeys: 1}, func(pg page) (bool, error) {
		found = len(pg.objects) > 0 || len(pg.prefixes) > 0
		return false, nil
	})
	return found, err
}
