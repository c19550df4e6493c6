package urllist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-project/ferry/fs"
)

const (
	// window is the least a ranged GET asks for: a reader going forward
	// (io.SectionReader with 32 KiB buffers) is served by one response per
	// window, not one per ReadAt.
	window = 8 << 20
	// maxIdle is the number of partly read ranged responses a file keeps,
	// each waiting for the ReadAt that continues where it stopped.
	maxIdle = 4
)

// ErrSizeMismatch reports a server that sends more or fewer bytes than the
// listed (or HEAD-reported) size.
var ErrSizeMismatch = errors.New("size differs from the listed size")

var errClosed = errors.New("file closed")

// file is an open URL. ReadAt is safe for concurrent use.
//
// A server that honours Range is read with "Range: bytes=off-end" GETs;
// responses are kept open (up to maxIdle) so that the next ReadAt at the
// offset where one stopped continues it. A server that ignores Range
// (answers 200 with the whole body) is read through one streaming body:
// reads at the current offset continue it, a forward jump discards up to
// the new offset, a backward jump reopens from 0. A body that breaks mid-way
// is resumed, up to RetryMax times. A server that sends more or fewer bytes
// than the listed size gives an error.
//
// Every response must come from the version pinned at open (see pin): a
// read that meets another version fails with an error wrapping
// fs.ErrChanged, never with bytes of both, and the URL is probed again so
// that Stat, Walk and later opens describe its current version.
type file struct {
	t       *Tree
	path    string
	url     string
	size    int64
	pin     *pin
	changed atomic.Bool     // the URL was probed again after a change
	ctx     context.Context // lives until Close: ReadAt has no context of its own
	close   context.CancelFunc

	seq    atomic.Bool // the server ignores Range
	mu     sync.Mutex  // guards idle and closed
	idle   []*stream
	closed bool

	seqMu sync.Mutex // held by a sequential read
	cur   *stream    // the sequential stream, nil when none
}

func (t *Tree) newFile(r row) *file {
	ctx, cancel := context.WithCancel(context.Background())
	f := &file{t: t, path: r.path, url: r.url, size: r.size, pin: newPin(r), ctx: ctx, close: cancel}
	f.seq.Store(r.ranges == rangesNo)
	return f
}

var _ fs.File = (*file)(nil)

// ReadAt reads len(p) bytes at off, or up to the end of the file with io.EOF.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", f.path, off)
	}
	if f.ctx.Err() != nil {
		return 0, fmt.Errorf("read %s: %w", f.path, errClosed)
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := int(min(int64(len(p)), f.size-off))
	done, retries := 0, 0
	for done < want {
		var n int
		var err error
		if f.seq.Load() {
			n, err = f.readSeq(p[done:want], off+int64(done))
		} else {
			n, err = f.readRanged(p[done:want], off+int64(done))
		}
		done += n
		var be *bodyError
		switch {
		case err == nil || errors.Is(err, errSwitched):
			continue
		case errors.As(err, &be) && retries < f.t.client.RetryMax && f.ctx.Err() == nil:
			retries++
			f.t.log.Debug("urllist: resuming a broken download", "path", f.path, "offset", off+int64(done), "error", err)
			if werr := f.backoff(retries); werr != nil {
				return done, fmt.Errorf("read %s at %d: %w", f.path, off+int64(done), werr)
			}
		default:
			if errors.Is(err, fs.ErrChanged) && f.changed.CompareAndSwap(false, true) {
				f.t.reprobe(f.ctx, f.path, f.url)
			}
			return done, fmt.Errorf("read %s at %d: %w", f.path, off+int64(done), err)
		}
	}
	if want < len(p) {
		return want, io.EOF
	}
	return want, nil
}

// backoff waits before retry n, or returns early when the file is closed.
func (f *file) backoff(n int) error {
	c := f.t.client
	timer := time.NewTimer(c.Backoff(c.RetryWaitMin, c.RetryWaitMax, n-1, nil))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-f.ctx.Done():
		return errClosed
	}
}

// Close ends every open response.
func (f *file) Close() error {
	f.mu.Lock()
	f.closed = true
	idle := f.idle
	f.idle = nil
	f.mu.Unlock()
	f.close()
	for _, s := range idle {
		s.close()
	}
	f.seqMu.Lock()
	if f.cur != nil {
		f.cur.close()
		f.cur = nil
	}
	f.seqMu.Unlock()
	return nil
}

// readRanged reads into p at off from a parked response that stopped at off
// or from a new ranged GET; n may be less than len(p) when the response ends.
func (f *file) readRanged(p []byte, off int64) (int, error) {
	s := f.takeIdle(off)
	if s == nil {
		var err error
		if s, err = f.openRange(off, len(p)); err != nil {
			return 0, err
		}
	}
	n, err := s.readFull(p[:min(int64(len(p)), s.end-off)], f.t.idle)
	if err == nil && s.pos == s.end {
		err = s.finish(f.t.idle)
	}
	if err != nil || s.pos == s.end {
		s.close()
		return n, err
	}
	f.putIdle(s)
	return n, nil
}

// takeIdle removes and returns the parked response whose next byte is off.
func (f *file) takeIdle(off int64) *stream {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.idle {
		if s.pos == off {
			f.idle = append(f.idle[:i], f.idle[i+1:]...)
			return s
		}
	}
	return nil
}

// putIdle parks s, closing the oldest parked response beyond maxIdle.
func (f *file) putIdle(s *stream) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		s.close()
		return
	}
	f.idle = append(f.idle, s)
	var old *stream
	if len(f.idle) > maxIdle {
		old = f.idle[0]
		f.idle = f.idle[1:]
	}
	f.mu.Unlock()
	if old != nil {
		old.close()
	}
}

// readSeq reads into p at off through the file's one streaming body.
func (f *file) readSeq(p []byte, off int64) (int, error) {
	f.seqMu.Lock()
	defer f.seqMu.Unlock()
	if f.cur != nil && f.cur.pos > off {
		f.cur.close()
		f.cur = nil
	}
	if f.cur == nil {
		s, err := f.openFull()
		if err != nil {
			return 0, err
		}
		f.cur = s
	}
	s := f.cur
	var n int
	err := s.skip(off, f.t.idle)
	if err == nil {
		n, err = s.readFull(p, f.t.idle)
	}
	if err == nil && s.pos == s.end {
		err = s.finish(f.t.idle)
	}
	if err != nil || s.pos == s.end {
		s.close()
		f.cur = nil
	}
	return n, err
}
