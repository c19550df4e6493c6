package mount

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// maxInflight is how many read-ahead fetches run at once per open file.
const maxInflight = 4

// readAhead is the read-ahead shape shared by every open file of a mount.
type readAhead struct {
	initial int64   // first window of a sequential reader; 0 disables
	max     int64   // largest window
	chunk   int64   // largest background fetch, and largest buffer
	budget  *budget // mount-wide bound on buffers; nil means unbounded
}

// newReadAhead derives the shape from normalized options (budget unset).
func newReadAhead(o Options) readAhead {
	if o.ReadAhead <= 0 {
		return readAhead{}
	}
	maxw := max(o.MaxReadAhead, o.ReadAhead)
	chunk := min(max(maxw/4&^4095, minChunk), chunkSize)
	return readAhead{initial: o.ReadAhead, max: maxw, chunk: chunk}
}

// chunkFor is the size of the fetches queued while the window is w: a
// quarter of it, so that four run at once, between minChunk and chunk.
func (r readAhead) chunkFor(w int64) int64 {
	return min(max(w/4&^4095, minChunk), r.chunk)
}

// perFile is the most buffer memory one open file holds: buffers of chunk
// bytes for its widest window, for the chunk the window starts in, and
// for one chunk kept behind the reader for requests the kernel sends
// slightly out of order.
func (r readAhead) perFile() int64 {
	if r.chunk == 0 {
		return 0
	}
	return ((r.max+r.chunk-1)/r.chunk + 2) * r.chunk
}

// budget is a mount-wide count of read-ahead buffer bytes. Every buffer
// (and every queued fetch that will need one) holds a reservation from
// the moment it is queued until it is dropped, so the buffers of all open
// files together never exceed limit.
type budget struct {
	mu    sync.Mutex
	limit int64
	used  int64
}

func newBudget(limit int64) *budget { return &budget{limit: limit} }

// reserve takes n bytes, or reports false when that would pass the limit.
func (b *budget) reserve(n int64) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// release gives back n bytes taken by reserve.
func (b *budget) release(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// inUse returns the bytes reserved now.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// chunk is one background fetch of [off, off+size) into buf, a buffer of
// res bytes (at least size) reserved from the budget, retried until
// deadline (set when it is queued). started is guarded by handle.mu; buf
// is set when the chunk is queued (a reused buffer) or started (a new
// one); n and err are read only after done is closed. A fetch fills buf
// whole (n == size) or fails.
//
// refs counts who still needs buf: the handle's chunk list, the fetch
// while it runs, and every READ reply that points into buf until go-fuse
// has written it to the kernel. The last one hands buf back to the handle.
type chunk struct {
	off      int64
	size     int64
	res      int64
	deadline time.Time
	started  bool
	buf      []byte
	n        int
	err      error
	done     chan struct{}
	refs     atomic.Int32
}

func (c *chunk) end() int64 { return c.off + c.size }

// failed reports whether the fetch has ended with an error.
func (c *chunk) failed() bool {
	select {
	case <-c.done:
		return c.err != nil
	default:
		return false
	}
}

// chunkResult answers a READ straight from read-ahead buffers: go-fuse
// sends Slices to the kernel with one writev(2), without copying them, and
// then calls Done, which lets the buffers be reused.
type chunkResult struct {
	h      *handle
	vecs   [][]byte
	chunks []*chunk
	size   int
	once   sync.Once
}

var _ fuse.ReadResult = (*chunkResult)(nil)

// Size returns the reply's length.
func (r *chunkResult) Size() int { return r.size }

// Slices returns the reply's bytes, in order, without copying; go-fuse
// prefers it over Bytes.
func (r *chunkResult) Slices() ([][]byte, fuse.Status) { return r.vecs, fuse.OK }

// Bytes copies the reply into buf (used only where writev is not).
func (r *chunkResult) Bytes(buf []byte) ([]byte, fuse.Status) {
	buf = buf[:0]
	for _, v := range r.vecs {
		buf = append(buf, v...)
	}
	return buf, fuse.OK
}

// Done releases the buffers; go-fuse calls it once the reply is written.
// Calling it again does nothing.
func (r *chunkResult) Done() {
	r.once.Do(func() {
		for _, c := range r.chunks {
			r.h.unref(c)
		}
	})
}
