package transfer

import (
	"context"
	"errors"
	"hash"
	"sync"
)

// errOrderFailed ends the waits of an order whose attempt failed.
var errOrderFailed = errors.New("an earlier part failed")

// order feeds a whole-object hash (Object.Whole) with parts in order as
// they are read, while the parts upload in parallel: a part's buffer is
// kept (its worker waits) until every earlier part was hashed, so a slow
// part holds back at most workers-1 later ones and never more memory. For
// a source read in order only, turn also makes the reads go in order.
type order struct {
	h      hash.Hash
	cancel context.CancelFunc // stops the attempt's other parts on fail

	mu     sync.Mutex
	next   int // the next part to hash
	bufs   map[int][]byte
	failed bool
	change chan struct{} // closed and replaced on every change
}

func newOrder(h hash.Hash, first int, cancel context.CancelFunc) *order {
	return &order{h: h, cancel: cancel, next: first, bufs: map[int][]byte{}, change: make(chan struct{})}
}

// ready hands over part n's bytes and hashes every part now in order.
func (o *order) ready(n int, b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failed {
		return
	}
	o.bufs[n] = b
	moved := false
	for {
		b, ok := o.bufs[o.next]
		if !ok {
			break
		}
		o.h.Write(b)
		delete(o.bufs, o.next)
		o.next++
		moved = true
	}
	if moved {
		o.signal()
	}
}

// fail ends the order: every wait returns, nothing more is hashed, and
// the attempt's other parts are stopped.
func (o *order) fail() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.failed {
		o.failed = true
		o.cancel()
		o.signal()
	}
}

func (o *order) signal() {
	close(o.change)
	o.change = make(chan struct{})
}

// turn waits until every part before n was hashed (n may be read).
func (o *order) turn(ctx context.Context, n int) error {
	return o.until(ctx, func() bool { return o.next >= n })
}

// wait waits until part n was hashed (its buffer may be reused).
func (o *order) wait(ctx context.Context, n int) error {
	return o.until(ctx, func() bool { return o.next > n })
}

func (o *order) until(ctx context.Context, done func() bool) error {
	for {
		o.mu.Lock()
		ok, failed, ch := done(), o.failed, o.change
		o.mu.Unlock()
		switch {
		case ok:
			return nil
		case failed:
			return errOrderFailed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			o.fail() // no buffer is hashed after its wait ended
			return ctx.Err()
		}
	}
}
