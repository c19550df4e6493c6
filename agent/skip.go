package agent

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/transfer"
)

// sameObject reports whether dst already holds src under the skip rule:
// never with "none", else transfer.Present ("size": sizes alone decide).
func sameObject(src, dst fs.Entry, rule string) bool {
	return rule != SkipNone && transfer.Present(src, dst, rule == SkipSize)
}

// destPath is the destination tree path of a source entry.
func destPath(e fs.Entry) string { return fs.KeyToPath(e.ObjectKey()) }

// skipTree is the source Tree seen through the destination: its Walk
// merges the source walk with a walk of the destination over the same
// range (both in byte order of object keys) and leaves out every source object the
// destination already holds under the skip rule, so a re-run moves only
// new and changed objects whichever agent runs the range. With a deleter
// it also removes destination objects that vanished from the source.
type skipTree struct {
	fs.Tree
	dst     fs.Tree
	rule    string
	filter  *transfer.Filter
	deleter fs.Deleter // nil: never delete
	log     *slog.Logger

	skipped, deleted, deleteErrors atomic.Int64
}

// Walk calls fn for the source entries of r that the destination lacks or
// holds in another version.
func (s *skipTree) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dch := make(chan fs.Entry, 256)
	derr := make(chan error, 1)
	go func() {
		defer close(dch)
		derr <- s.dst.Walk(ctx, r, func(e fs.Entry) error {
			select {
			case dch <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	cur, have := <-dch
	next := func() { cur, have = <-dch }
	err := s.Tree.Walk(ctx, r, func(e fs.Entry) error {
		key := e.ObjectKey()
		for have && cur.ObjectKey() < key {
			s.vanished(ctx, cur)
			next()
		}
		if have && cur.ObjectKey() == key {
			d := cur
			next()
			if sameObject(e, d, s.rule) {
				s.skipped.Add(1)
				return nil
			}
		}
		return fn(e)
	})
	if err == nil {
		for have {
			s.vanished(ctx, cur)
			next()
		}
	}
	cancel()
	for range dch { // let the destination walk end
	}
	if derr := <-derr; derr != nil && !errors.Is(derr, context.Canceled) && err == nil {
		s.log.Warn("listing the destination failed; the rest of the range is copied without the skip rule", "err", derr)
	}
	return err
}

// vanished deletes a destination object of the range that the source walk
// passed without seeing, after checking the source really lacks it and the
// filters select it.
func (s *skipTree) vanished(ctx context.Context, d fs.Entry) {
	if s.deleter == nil || !s.filter.Match(d.Path) {
		return
	}
	key := d.ObjectKey()
	paths := []string{key}
	if p := fs.KeyToPath(key); p != key {
		paths = append(paths, p)
	}
	for _, p := range paths {
		if _, err := s.Tree.Stat(ctx, p); !errors.Is(err, fs.ErrNotExist) {
			return // present (or unknown): keep it
		}
	}
	if err := s.deleter.Delete(ctx, key); err != nil {
		s.deleteErrors.Add(1)
		s.log.Warn("delete vanished object", "key", key, "err", err)
		return
	}
	s.deleted.Add(1)
}
