package mount

import (
	"errors"
	"io"
)

// errDropped fails a queued chunk that was dropped before it was fetched.
var errDropped = errors.New("read-ahead chunk dropped")

// keepBehind is how far behind a sequential reader a chunk is kept, for
// kernel requests that arrive out of order.
const keepBehind = 2 << 20

// prefetch grows the window when the reader has moved into a chunk it had
// not read from, drops chunks away from the reader and queues fetches for
// the uncovered parts of [off, off+window), as far as the handle's and the
// mount's buffer bounds allow. The caller holds h.mu.
func (h *handle) prefetch(off int64) {
	if c := h.containing(off); c != nil && c.off > h.reached {
		if h.reached >= 0 {
			h.window = min(2*h.window, h.ra.max)
		}
		h.reached = c.off
	}
	keep := h.chunks[:0]
	for _, c := range h.chunks {
		if c.end() > off-keepBehind && c.off < off+h.window+seqTolerance {
			keep = append(keep, c)
		} else {
			h.drop(c)
		}
	}
	clear(h.chunks[len(keep):])
	h.chunks = keep

	size := h.ra.chunkFor(h.window)
	at, stop := off, min(off+h.window, h.size)
	for i := 0; at < stop; {
		for i < len(h.chunks) && h.chunks[i].end() <= at {
			i++
		}
		if i < len(h.chunks) && h.chunks[i].off <= at {
			at = h.chunks[i].end()
			continue
		}
		// Chunks end on multiples of their size, as objects' parts
		// usually do, so that one fetch touches as few parts as it can;
		// a short tail of the file joins the chunk before it.
		n := size - at%size
		if rest := h.size - at; rest-n < size/4 && rest <= h.ra.chunk {
			n = rest
		}
		n = min(n, h.size-at)
		if i < len(h.chunks) {
			n = min(n, h.chunks[i].off-at)
		}
		buf, ok := h.take()
		if !ok {
			break
		}
		c := &chunk{off: at, size: n, buf: buf, done: make(chan struct{})}
		c.refs.Store(1) // the list's
		h.chunks = append(h.chunks, nil)
		copy(h.chunks[i+1:], h.chunks[i:])
		h.chunks[i] = c
		at += n
	}
	h.launch()
}

// drop removes the list's reference to c, failing it first if it was
// never started (which releases any reader waiting for it). The caller
// holds h.mu and removes c from h.chunks.
func (h *handle) drop(c *chunk) {
	if !c.started {
		c.started = true
		c.err = errDropped
		close(c.done)
	}
	h.unref(c)
}

// launch starts queued fetches, lowest offset first, while fewer than
// maxInflight run. The caller holds h.mu.
func (h *handle) launch() {
	for _, c := range h.chunks {
		if h.inflight >= maxInflight || h.released {
			return
		}
		if !c.started {
			c.started = true
			c.refs.Add(1) // the fetch's
			h.inflight++
			h.wg.Add(1)
			go h.fetch(c)
		}
	}
}

// fetch reads one chunk, then starts the next queued one.
func (h *handle) fetch(c *chunk) {
	defer h.wg.Done()
	if c.buf == nil {
		c.buf = make([]byte, h.ra.chunk)
	}
	n, err := h.f.ReadAt(c.buf[:c.size], c.off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	c.n, c.err = n, err
	close(c.done)
	h.mu.Lock()
	h.inflight--
	h.launch()
	h.mu.Unlock()
	h.unref(c)
}

// take finds a buffer for a chunk: a kept one, or (nil) a new reservation
// whose buffer is made when the fetch starts. Every buffer holds
// readAhead.chunk bytes however much of it a smaller chunk uses, and is
// reserved at that size, so the bounds count what a buffer can grow to. It
// reports false when the handle's or the mount's bound leaves no room. The
// caller holds h.mu.
func (h *handle) take() (buf []byte, ok bool) {
	h.bufMu.Lock()
	defer h.bufMu.Unlock()
	if h.closed {
		return nil, false
	}
	if n := len(h.free); n > 0 {
		buf = h.free[n-1]
		h.free[n-1] = nil
		h.free = h.free[:n-1]
		return buf, true
	}
	if h.owned+h.ra.chunk > h.ra.perFile() || !h.ra.budget.reserve(h.ra.chunk) {
		return nil, false
	}
	h.owned += h.ra.chunk
	return nil, true
}

// unref drops one reference to c; the last one keeps its buffer for reuse
// or, once the handle is closed (or if it was never fetched), gives its
// reservation back.
func (h *handle) unref(c *chunk) {
	if c.refs.Add(-1) != 0 {
		return
	}
	buf := c.buf
	c.buf = nil
	h.bufMu.Lock()
	defer h.bufMu.Unlock()
	if buf != nil && !h.closed {
		h.free = append(h.free, buf)
		return
	}
	h.unreserve()
}

// unreserve gives one buffer's reservation back. The caller holds h.bufMu.
func (h *handle) unreserve() {
	h.owned -= h.ra.chunk
	h.ra.budget.release(h.ra.chunk)
}

// containing returns the chunk holding off, or nil. The caller holds h.mu.
func (h *handle) containing(off int64) *chunk {
	for _, c := range h.chunks {
		if c.off <= off && off < c.end() {
			return c
		}
	}
	return nil
}

// covering returns the chunks that together hold [off, end), in order,
// with a reference taken on each for the caller, or nil when they do not
// cover it all. The caller holds h.mu.
func (h *handle) covering(off, end int64) []*chunk {
	var out []*chunk
	at := off
	for _, c := range h.chunks {
		if at >= end {
			break
		}
		if c.off <= at && at < c.end() {
			out = append(out, c)
			at = c.end()
		}
	}
	if at < end {
		return nil
	}
	for _, c := range out {
		c.refs.Add(1)
	}
	return out
}
