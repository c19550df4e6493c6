package mount

import "errors"

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
		// A failed fetch is dropped, so that its range is fetched again.
		if !c.failed() && c.end() > off-keepBehind && c.off < off+h.window+seqTolerance {
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
		// A new buffer is made at the window's chunk size (or the rest of
		// the file), so that it can be reused for the next chunks; in a
		// file that can hold the widest window, at the largest chunk size
		// at once, so that it is reused as the window grows.
		alloc := max(n, min(size, h.size-at))
		if h.size >= h.ra.max {
			alloc = h.ra.chunk
		}
		buf, res, ok := h.take(n, alloc)
		if !ok {
			break
		}
		c := &chunk{off: at, size: n, buf: buf, res: res, done: make(chan struct{}), deadline: h.retry.deadline()}
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

// fetch reads one chunk, whole (retried until the chunk's deadline), then
// starts the next queued one.
func (h *handle) fetch(c *chunk) {
	defer h.wg.Done()
	var n int
	var err error
	if c.buf == nil {
		c.buf, err = newBuffer(c.res)
	}
	if err == nil {
		n, err = h.readFull(h.life, c.deadline, "read-ahead", c.buf[:c.size], c.off)
	}
	c.n, c.err = n, err
	close(c.done)
	h.mu.Lock()
	h.inflight--
	h.launch()
	h.mu.Unlock()
	h.unref(c)
}

// take finds a buffer for an n-byte chunk: the smallest kept one that
// fits, or (nil) a new reservation of alloc bytes whose buffer is made
// when the fetch starts, after giving up kept buffers (all too small) when
// the bounds leave no room. res is the buffer's size as reserved. It
// reports false when the handle's or the mount's bound leaves no room.
// The caller holds h.mu.
func (h *handle) take(n, alloc int64) (buf []byte, res int64, ok bool) {
	h.bufMu.Lock()
	defer h.bufMu.Unlock()
	if h.closed {
		return nil, 0, false
	}
	best := -1
	for i, b := range h.free {
		if int64(len(b)) >= n && (best < 0 || len(b) < len(h.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		buf = h.free[best]
		h.removeFree(best)
		return buf, int64(len(buf)), true
	}
	for {
		if h.owned+alloc <= h.ra.perFile() && h.ra.budget.reserve(alloc) {
			h.owned += alloc
			return nil, alloc, true
		}
		if len(h.free) == 0 {
			return nil, 0, false
		}
		small := 0
		for i, b := range h.free {
			if len(b) < len(h.free[small]) {
				small = i
			}
		}
		h.discard(h.free[small], int64(len(h.free[small])))
		h.removeFree(small)
	}
}

// removeFree takes h.free[i] out of the kept buffers. The caller holds
// h.bufMu.
func (h *handle) removeFree(i int) {
	last := len(h.free) - 1
	h.free[i] = h.free[last]
	h.free[last] = nil
	h.free = h.free[:last]
}

// unref drops one reference to c. The last one keeps its buffer (and its
// reservation) for reuse or, once the handle is closed, frees it and gives
// the reservation back, as it does for a chunk that was never fetched.
func (h *handle) unref(c *chunk) {
	if c.refs.Add(-1) != 0 {
		return
	}
	buf, res := c.buf, c.res
	c.buf = nil
	h.bufMu.Lock()
	defer h.bufMu.Unlock()
	if buf != nil && !h.closed {
		h.free = append(h.free, buf)
		return
	}
	h.discard(buf, res)
}

// discard frees buf (nil for a chunk never fetched) and gives its
// reservation of res bytes back. The caller holds h.bufMu.
func (h *handle) discard(buf []byte, res int64) {
	if buf != nil {
		freeBuffer(buf)
	}
	h.owned -= res
	h.ra.budget.release(res)
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
