package transfer

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// Present reports whether dst, the destination's entry at the key src is
// written to, already holds src: the sizes must match; with sizeOnly that
// is enough; otherwise equal ETags decide, ETags of the same kind that
// differ mean different content, and when they cannot be compared (a local
// file has none; a multipart ETag depends on the part size) a destination
// copy not older than the source, to the second as listings round, counts
// as current.
func Present(src, dst fs.Entry, sizeOnly bool) bool {
	if dst.IsDir() || src.Size != dst.Size {
		return false
	}
	if sizeOnly {
		return true
	}
	if src.ETag != "" && dst.ETag != "" {
		if strings.EqualFold(src.ETag, dst.ETag) {
			return true
		}
		if comparableETags(src.ETag, dst.ETag) {
			return false
		}
	}
	return !src.ModTime.IsZero() && !dst.ModTime.Before(src.ModTime.Truncate(time.Second))
}

// comparableETags reports whether two ETags come from the same algorithm
// over the whole object (same length, neither a multipart "-N" form).
func comparableETags(a, b string) bool {
	return len(a) == len(b) && !strings.Contains(a, "-") && !strings.Contains(b, "-")
}

// destCursor walks the destination (Options.Dest) over the run's range in
// a goroutine, in the key order of the source walk, so that each walked
// source entry is matched with the destination entry of the same key
// without holding the listing.
type destCursor struct {
	ch     chan fs.Entry
	errc   chan error
	cancel context.CancelFunc
	cur    fs.Entry
	have   bool
}

// newDestCursor starts walking dst over r. Close must be called.
func newDestCursor(ctx context.Context, dst fs.Tree, r fs.Range) *destCursor {
	ctx, cancel := context.WithCancel(ctx)
	d := &destCursor{ch: make(chan fs.Entry, 256), errc: make(chan error, 1), cancel: cancel}
	go func() {
		defer close(d.ch)
		d.errc <- dst.Walk(ctx, r, func(e fs.Entry) error {
			select {
			case d.ch <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	d.cur, d.have = <-d.ch
	return d
}

// find returns the destination entry with key, skipping the ones before
// it. Keys must be asked for in increasing order.
func (d *destCursor) find(key string) (fs.Entry, bool) {
	for d.have && d.cur.ObjectKey() < key {
		d.cur, d.have = <-d.ch
	}
	if d.have && d.cur.ObjectKey() == key {
		return d.cur, true
	}
	return fs.Entry{}, false
}

// close stops the walk and returns its error, if it failed before being
// stopped: the objects after the failure were then compared with nothing
// and are copied.
func (d *destCursor) close() error {
	d.cancel()
	for range d.ch { // let the walk end
	}
	if err := <-d.errc; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
