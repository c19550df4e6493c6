package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ferry-project/ferry/fs"
)

// maxInflight is how many read-ahead fetches run at once per open file.
const maxInflight = 2

// seqTolerance is how far a read may start from the end of the previous one
// and still count as sequential: the kernel issues read-ahead requests in
// parallel, so a sequential reader's requests can arrive slightly out of
// order.
const seqTolerance = 1 << 20

// handle is one open file. Reads go to File.ReadAt, except that once two
// consecutive reads are contiguous it fetches the next ReadAhead bytes in
// background chunks (up to 4 MiB each, at most two fetches at a time) and
// serves reads from them. Memory per handle is bounded by ReadAhead plus two
// chunks.
type handle struct {
	f       fs.File
	cancel  context.CancelFunc // ends the context the file was opened with
	path    string
	size    int64 // size at open: read-ahead never goes past it
	window  int64 // read-ahead bytes; 0 passes every read through
	chunk   int64 // bytes per background fetch
	seqOnly bool  // the tree needs in-order reads: pass through, one at a time
	log     *slog.Logger

	mu       sync.Mutex
	next     int64 // end of the previous read
	streak   int   // consecutive sequential reads
	chunks   []*chunk
	inflight int            // fetches running
	released bool           // Release began: start no more fetches
	wg       sync.WaitGroup // background fetches
}

// errDropped fails a queued chunk that was dropped before it was fetched.
var errDropped = errors.New("read-ahead chunk dropped")

// chunk is one background fetch of [off, off+size). started is guarded by
// handle.mu; buf, n and err are read only after done is closed.
type chunk struct {
	off     int64
	size    int64
	started bool
	buf     []byte
	n       int
	err     error
	done    chan struct{}
}

func (c *chunk) end() int64 { return c.off + c.size }

// cancel fails a chunk that was never started. The caller holds handle.mu.
func (c *chunk) cancel() {
	c.started = true
	c.err = errDropped
	close(c.done)
}

var (
	_ gofs.FileReader   = (*handle)(nil)
	_ gofs.FileReleaser = (*handle)(nil)
)

func newHandle(f fs.File, cancel context.CancelFunc, path string, size, window int64, seqOnly bool, log *slog.Logger) *handle {
	if seqOnly {
		window = 0
	}
	return &handle{f: f, cancel: cancel, path: path, size: size, window: window,
		chunk: min(window, chunkSize), seqOnly: seqOnly, log: log}
}

// Read serves one kernel read request.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.read(ctx, dest, off)
	if err != nil {
		return nil, toErrno(h.log, "read", h.path, err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// Release waits for background fetches and closes the file.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	h.released = true
	for _, c := range h.chunks {
		if !c.started {
			c.cancel()
		}
	}
	h.chunks = nil
	h.mu.Unlock()
	h.wg.Wait()
	err := h.f.Close()
	h.cancel()
	if err != nil {
		return toErrno(h.log, "close", h.path, fmt.Errorf("close file: %w", err))
	}
	return 0
}

// read fills dest from off; a short count means end of file.
func (h *handle) read(ctx context.Context, dest []byte, off int64) (int, error) {
	if h.seqOnly {
		h.mu.Lock()
		defer h.mu.Unlock()
		return readAt(h.f, dest, off)
	}
	if h.window == 0 || off >= h.size {
		return readAt(h.f, dest, off)
	}
	end := off + int64(len(dest))
	h.mu.Lock()
	if off >= h.next-seqTolerance && off <= h.next+seqTolerance {
		h.streak++
		h.next = max(h.next, end)
	} else {
		h.streak, h.next = 1, end
	}
	if h.streak >= 2 {
		h.prefetch(off)
	}
	cover := h.covering(off, min(end, h.size))
	h.mu.Unlock()
	if cover == nil {
		return readAt(h.f, dest, off)
	}
	return h.serve(ctx, cover, dest, off)
}

// prefetch drops chunks the reader has passed and queues fetches for the
// missing chunks of [off, off+window). The caller holds h.mu.
func (h *handle) prefetch(off int64) {
	keep := h.chunks[:0]
	for _, c := range h.chunks {
		if c.end() > off-seqTolerance {
			keep = append(keep, c)
		} else if !c.started {
			c.cancel() // nobody will fetch it: release any waiter
		}
	}
	clear(h.chunks[len(keep):])
	h.chunks = keep
	stop := min(off+h.window, h.size)
	for at := off / h.chunk * h.chunk; at < stop; at += h.chunk {
		if h.find(at) == nil {
			h.insert(&chunk{off: at, size: min(h.chunk, h.size-at), done: make(chan struct{})})
		}
	}
	h.launch()
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
			c.buf = make([]byte, c.size)
			h.inflight++
			h.wg.Add(1)
			go h.fetch(c)
		}
	}
}

// fetch reads one chunk, then starts the next queued one.
func (h *handle) fetch(c *chunk) {
	defer h.wg.Done()
	n, err := h.f.ReadAt(c.buf, c.off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	c.n, c.err = n, err
	close(c.done)
	h.mu.Lock()
	h.inflight--
	h.launch()
	h.mu.Unlock()
}

// find returns the chunk starting at off. The caller holds h.mu.
func (h *handle) find(off int64) *chunk {
	for _, c := range h.chunks {
		if c.off == off {
			return c
		}
	}
	return nil
}

// insert adds c keeping h.chunks ordered by offset. The caller holds h.mu.
func (h *handle) insert(c *chunk) {
	i := len(h.chunks)
	for i > 0 && h.chunks[i-1].off > c.off {
		i--
	}
	h.chunks = append(h.chunks, nil)
	copy(h.chunks[i+1:], h.chunks[i:])
	h.chunks[i] = c
}

// covering returns the chunks that together hold [off, end), in order, or
// nil when they do not cover it all. The caller holds h.mu.
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
	return out
}

// serve copies [off, off+len(dest)) out of cover, waiting for fetches still
// in flight. A chunk that failed is retried as a direct read.
func (h *handle) serve(ctx context.Context, cover []*chunk, dest []byte, off int64) (int, error) {
	n := 0
	for _, c := range cover {
		select {
		case <-c.done:
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for read-ahead: %w", ctx.Err())
		}
		at := off + int64(n)
		if c.err != nil {
			h.log.Debug("mount: read-ahead failed, reading directly", "path", h.path, "err", c.err)
			m, err := readAt(h.f, dest[n:], at)
			return n + m, err
		}
		if at-c.off >= int64(c.n) {
			break // the file ended before this chunk was full
		}
		m := copy(dest[n:], c.buf[at-c.off:c.n])
		n += m
		if c.off+int64(c.n) < c.end() || n == len(dest) {
			break // the file ended early, or dest is full
		}
	}
	return n, nil
}

// readAt reads into dest at off, treating end of file as a short read.
func readAt(f fs.File, dest []byte, off int64) (int, error) {
	n, err := f.ReadAt(dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read at %d: %w", off, err)
	}
	return n, nil
}
