package us3

import (
	"context"
	"errors"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// target is a path resolved to a key relative to the prefix. clash is true
// when the path named the file through fs.ClashName.
type target struct {
	rel   string
	clash bool
}

// resolve maps a Tree path back to its key: fs.PathToKey segment by
// segment, listing the parent to find a segment whose escaped form was a
// cut long name. A clash name is valid only as the last segment.
func (s *Store) resolve(ctx context.Context, p string) (target, error) {
	segs := strings.Split(p, "/")
	keys := make([]string, 0, len(segs))
	var t target
	for i, seg := range segs {
		if strings.HasSuffix(seg, fs.ClashSuffix) {
			if i != len(segs)-1 {
				return target{}, fs.ErrNotExist // under a file
			}
			t.clash = true
			seg = strings.TrimSuffix(seg, fs.ClashSuffix)
		}
		k, ok := fs.UnescapeSegment(seg)
		if !ok {
			var err error
			if k, err = s.findChild(ctx, strings.Join(keys, "/"), seg); err != nil {
				return target{}, err
			}
		}
		keys = append(keys, k)
	}
	t.rel = strings.Join(keys, "/")
	return t, nil
}

// findChild lists the directory parent (a key relative to the prefix) for
// the child whose escaped name is shown.
func (s *Store) findChild(ctx context.Context, parent, shown string) (string, error) {
	errFound := errors.New("found")
	var name string
	_, err := s.listDir(ctx, s.dirPrefix(parent), func(c child) error {
		if fs.EscapeSegment(c.name) == shown {
			name = c.name
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return name, nil
	}
	if err != nil {
		return "", err
	}
	return "", fs.ErrNotExist
}
