package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ferry-project/ferry/fs"
)

// seqTolerance is how far a read may start from the end of the previous one
// and still count as sequential: the kernel issues read-ahead requests in
// parallel (up to its own read-ahead window, see kernelReadAheadKB), so a
// sequential reader's requests can arrive out of order.
const seqTolerance = 4 << 20

// handle is one open file. Reads go to File.ReadAt, except that once two
// consecutive reads are contiguous it fetches ahead of the reader in
// background chunks of a quarter of the window (up to maxInflight at once)
// and answers reads from them without copying. The window starts at
// readAhead.initial, doubles each time the reader moves into a chunk it
// had not read from, up to readAhead.max, and falls back after a jump.
//
// Memory: the handle's buffers (queued, fetched, kept for reuse, or still
// being written to the kernel) add up to at most readAhead.perFile()
// bytes, each reserved from the mount-wide budget first; when either bound
// is reached it fetches less ahead, and reads it has no chunk for go
// straight to the file.
type handle struct {
	f fs.File
	// life is the context the file was opened with: it lives until
	// Release or unmount, which cancel, and bounds background fetches.
	life    context.Context
	cancel  context.CancelFunc
	path    string
	size    int64 // size at open: read-ahead never goes past it
	ra      readAhead
	seqOnly bool // the tree needs in-order reads: pass through, one at a time
	retry   retrier
	log     *slog.Logger

	mu       sync.Mutex
	next     int64 // end of the previous read
	streak   int   // consecutive sequential reads
	window   int64 // bytes fetched ahead of the reader now
	reached  int64 // start of the furthest chunk read sequentially; -1 after a jump
	chunks   []*chunk
	inflight int            // fetches running
	released bool           // Release began: start no more fetches
	wg       sync.WaitGroup // background fetches

	bufMu  sync.Mutex // after mu when both are held
	free   [][]byte   // fetched-and-dropped buffers to reuse
	owned  int64      // bytes of buffers and reservations held, at most ra.perFile()
	closed bool       // Release has run: dropped buffers go back to the budget
}

var (
	_ gofs.FileReader   = (*handle)(nil)
	_ gofs.FileReleaser = (*handle)(nil)
)

// newHandle serves reads of f, opened with life (ended by cancel), whose
// size at open is size.
func newHandle(life context.Context, f fs.File, cancel context.CancelFunc, path string, size int64,
	ra readAhead, seqOnly bool, retry retrier, log *slog.Logger) *handle {
	if seqOnly {
		ra = readAhead{}
	}
	return &handle{f: f, life: life, cancel: cancel, path: path, size: size, ra: ra, seqOnly: seqOnly,
		retry: retry, log: log, window: ra.initial, reached: -1}
}

// Read serves one kernel read request.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	res, err := h.readResult(ctx, dest, off)
	if err != nil {
		return nil, toErrno(h.log, "read", h.path, err)
	}
	return res, 0
}

// Release stops read-ahead, ends the file's context (so that fetches
// waiting to be retried stop), waits for background fetches and closes
// the file. Buffers still being written to the kernel return to the
// budget when go-fuse is done with them.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	h.released = true
	for _, c := range h.chunks {
		h.drop(c)
	}
	h.chunks = nil
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
	err := h.f.Close()
	h.bufMu.Lock()
	h.closed = true
	for _, b := range h.free {
		h.discard(b, int64(len(b)))
	}
	h.free = nil
	h.bufMu.Unlock()
	if err != nil {
		return toErrno(h.log, "close", h.path, fmt.Errorf("close file: %w", err))
	}
	return 0
}

// readResult answers [off, off+len(dest)) whole, or fails: a short reply
// means end of file, never a failure part-way. Transient errors are
// retried until the retry timeout after the request arrived. dest is used
// only when the read goes straight to the file.
func (h *handle) readResult(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, error) {
	deadline := h.retry.deadline()
	if h.seqOnly {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.direct(ctx, deadline, dest, off)
	}
	if h.ra.initial == 0 || off >= h.size {
		return h.direct(ctx, deadline, dest, off)
	}
	end := min(off+int64(len(dest)), h.size)
	h.mu.Lock()
	// A read near the previous one, or inside a chunk already fetched or in
	// flight, is part of a sequential stream: the kernel's parallel
	// read-ahead requests can arrive further out of order than seqTolerance
	// when the machine is busy, and restarting the window then would fall
	// back to one small read at a time.
	if (off >= h.next-seqTolerance && off <= h.next+seqTolerance) || h.containing(off) != nil {
		h.streak++
		h.next = max(h.next, end)
	} else {
		h.streak, h.next = 1, end
		h.window, h.reached = h.ra.initial, -1
	}
	if h.streak >= 2 {
		h.prefetch(off)
	}
	cover := h.covering(off, end)
	h.mu.Unlock()
	if cover == nil {
		return h.direct(ctx, deadline, dest, off)
	}
	return h.serve(ctx, deadline, cover, dest, off, end)
}

// serve answers [off, end) from cover, waiting for fetches still in
// flight (each is retried no longer than deadline, since it was queued
// before this read arrived). It owns one reference to each chunk of cover,
// which the reply takes over. If a chunk failed the whole read goes
// straight to the file, retried until deadline.
func (h *handle) serve(ctx context.Context, deadline time.Time, cover []*chunk, dest []byte, off, end int64) (fuse.ReadResult, error) {
	r := &chunkResult{h: h, chunks: cover}
	for _, c := range cover {
		select {
		case <-c.done:
		case <-ctx.Done():
			r.Done()
			return nil, fmt.Errorf("wait for read-ahead: %w", ctx.Err())
		}
		if c.err != nil {
			r.Done()
			h.log.Debug("mount: read-ahead failed, reading directly", "path", h.path, "err", c.err)
			return h.direct(ctx, deadline, dest, off)
		}
	}
	at := off
	for _, c := range cover {
		if at-c.off >= int64(c.n) {
			break // the file ended before this chunk was full
		}
		s := c.buf[at-c.off : min(int64(c.n), end-c.off)]
		r.vecs = append(r.vecs, s)
		r.size += len(s)
		at += int64(len(s))
		if int64(c.n) < c.size || at >= end {
			break // the file ended early, or the request is answered
		}
	}
	if r.size == 0 {
		r.Done()
		return fuse.ReadResultData(nil), nil
	}
	return r, nil
}

// direct reads into dest straight from the file, retried until deadline.
func (h *handle) direct(ctx context.Context, deadline time.Time, dest []byte, off int64) (fuse.ReadResult, error) {
	n, err := h.readFull(ctx, deadline, "read", dest, off)
	if err != nil {
		return nil, err
	}
	return fuse.ReadResultData(dest[:n]), nil
}

// readFull fills p from the file at off, or up to the end of the file,
// retrying transient errors until deadline (logged as op); a retry asks
// only for the bytes still missing. It returns fewer than len(p) bytes
// only when the file ends, never after a failure part-way. A file that
// ends before the size it was opened with has changed since
// (fs.ErrChanged), which fails at once; past that size (a local file that
// grew) the file's own end counts.
func (h *handle) readFull(ctx context.Context, deadline time.Time, op string, p []byte, off int64) (int, error) {
	n := 0
	err := h.retry.do(ctx, deadline, op, h.path, func() error {
		m, err := h.f.ReadAt(p[n:], off+int64(n))
		n += m
		at := off + int64(n)
		switch {
		case n == len(p):
			return nil
		case err != nil && !errors.Is(err, io.EOF):
			return fmt.Errorf("read at %d: %w", at, err)
		case at < h.size:
			return fmt.Errorf("read at %d: file ends before its size %d: %w", at, h.size, fs.ErrChanged)
		}
		return nil // end of file
	})
	return n, err
}
