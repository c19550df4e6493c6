package agent

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// statBatch is how many listed paths are looked up concurrently.
const statBatch = 32

// listTree is the source Tree restricted to a sorted list of paths (a
// file-list job or a retry range): Walk looks each listed path of the range
// up with Stat instead of listing the source. A listed path the source
// lacks is recorded as a failure. With skip set, paths for which skip
// answers true (the destination holds them) are left out and counted.
type listTree struct {
	fs.Tree
	paths []string
	skip  func(ctx context.Context, e fs.Entry) bool // nil: skip nothing

	skipped atomic.Int64
	mu      sync.Mutex
	misses  []FailureView
}

var _ fs.Tree = (*listTree)(nil)

// statResult is one looked-up path.
type statResult struct {
	entry fs.Entry
	err   error
	skip  bool
}

// Walk calls fn, in order, for each listed path of r that exists at the
// source and is not skipped.
func (t *listTree) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	i := sort.SearchStrings(t.paths, r.Start)
	for i < len(t.paths) {
		j := i
		for j < len(t.paths) && j-i < statBatch && (r.End == "" || t.paths[j] < r.End) {
			j++
		}
		if j == i {
			return nil
		}
		batch := t.paths[i:j]
		res := make([]statResult, len(batch))
		var wg sync.WaitGroup
		for k, p := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[k] = t.lookup(ctx, p)
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		for k, sr := range res {
			switch {
			case sr.err != nil:
				t.miss(batch[k], sr.err)
			case sr.skip:
				t.skipped.Add(1)
			default:
				if err := fn(sr.entry); err != nil {
					return err
				}
			}
		}
		i = j
	}
	return nil
}

// lookup stats one listed path and applies the skip rule.
func (t *listTree) lookup(ctx context.Context, p string) statResult {
	e, err := t.Tree.Stat(ctx, p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return statResult{err: errors.New("listed path not found at the source")}
	case err != nil:
		return statResult{err: fmt.Errorf("stat source: %w", err)}
	case e.IsDir():
		return statResult{err: errors.New("listed path is a directory")}
	}
	return statResult{entry: e, skip: t.skip != nil && t.skip(ctx, e)}
}

// miss records a listed path that could not be copied.
func (t *listTree) miss(p string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.misses = append(t.misses, FailureView{Path: p, Error: err.Error(), At: time.Now()})
}

// takeMisses returns the misses recorded since the last call and how many
// there were in all.
func (t *listTree) takeMisses(from int) ([]FailureView, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]FailureView(nil), t.misses[from:]...), len(t.misses)
}

// destSkip returns the skip function of a listed range: the destination is
// asked for each path (Stat) and the skip rule applied.
func destSkip(dst fs.Tree, rule string) func(ctx context.Context, e fs.Entry) bool {
	return func(ctx context.Context, e fs.Entry) bool {
		d, err := dst.Stat(ctx, destPath(e))
		return err == nil && !d.IsDir() && sameObject(e, d, rule)
	}
}
