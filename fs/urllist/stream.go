package urllist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/ferry-project/ferry/internal/httporigin"
)

// errSwitched tells ReadAt that a ranged GET found a server that ignores
// Range and the file now reads sequentially.
var errSwitched = errors.New("server ignores Range")

// bodyError is a response body that broke mid-way: ReadAt resumes it.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read response body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// stream is one open GET response.
type stream struct {
	body   io.ReadCloser
	pos    int64 // offset in the file of the next byte body yields
	end    int64 // offset just past the last byte the response covers
	exact  bool  // the response declared its length: no need to look past end
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer // cancels the request when armed and no byte comes
}

// get sends a GET (rng: a Range header value or "") conditional on the
// pinned version, whose response lives until the stream is closed or the
// file is. A 412 (the URL is no longer that version) is an error wrapping
// fs.ErrChanged.
func (f *file) get(rng string) (*stream, *http.Response, error) {
	ctx, cancel := context.WithCancel(f.ctx)
	resp, err := httporigin.Get(ctx, f.t.client, http.MethodGet, f.url, rng, nil, f.pin.ver)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	timer := time.AfterFunc(time.Hour, cancel)
	timer.Stop()
	return &stream{body: resp.Body, ctx: ctx, cancel: cancel, timer: timer}, resp, nil
}

// openRange asks for at least n bytes (window bytes when more) at off.
func (f *file) openRange(off int64, n int) (*stream, error) {
	last := min(f.size, off+max(int64(n), window)) - 1
	s, resp, err := f.get(fmt.Sprintf("bytes=%d-%d", off, last))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		first, l, total, err := httporigin.ParseContentRange(resp.Header.Get("Content-Range"))
		if err == nil {
			err = f.check(resp, total)
		}
		switch {
		case err != nil:
		case first != off || l > last || (resp.ContentLength >= 0 && resp.ContentLength != l-first+1):
			err = fmt.Errorf("GET %s: asked for bytes %d-%d, server answered %q (%d bytes)", httporigin.Redact(f.url), off, last, resp.Header.Get("Content-Range"), resp.ContentLength)
		}
		if err != nil {
			s.close()
			return nil, err
		}
		s.pos, s.end, s.exact = off, l+1, resp.ContentLength >= 0
		return s, nil
	case http.StatusOK:
		// The whole body: the URL changed (an origin honouring If-Range
		// sends the new version whole), which check tells, or the server
		// ignores Range.
		if err := f.check(resp, resp.ContentLength); err != nil {
			s.close()
			return nil, err
		}
		s.pos, s.end, s.exact = 0, f.size, resp.ContentLength >= 0
		f.switchToSeq(s)
		return nil, errSwitched
	case http.StatusRequestedRangeNotSatisfiable:
		s.close()
		if _, _, total, err := httporigin.ParseContentRange(resp.Header.Get("Content-Range")); err == nil && total >= 0 {
			if err := f.check(resp, total); err != nil {
				return nil, err
			}
		}
		return nil, fmt.Errorf("GET %s: server has fewer bytes than the listed size %d (416 for bytes %d-%d): %w", httporigin.Redact(f.url), f.size, off, last, ErrSizeMismatch)
	default:
		s.close()
		return nil, statusError(http.MethodGet, f.url, resp)
	}
}

// openFull sends a plain GET for the whole body.
func (f *file) openFull() (*stream, error) {
	s, resp, err := f.get("")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		s.close()
		return nil, statusError(http.MethodGet, f.url, resp)
	}
	if err := f.check(resp, resp.ContentLength); err != nil {
		s.close()
		return nil, err
	}
	s.pos, s.end, s.exact = 0, f.size, resp.ContentLength >= 0
	return s, nil
}

// check compares a response's version and total size (-1 unknown) with
// the pinned ones (see pin.check).
func (f *file) check(resp *http.Response, total int64) error {
	if err := f.pin.check(resp.Header, total, f.size); err != nil {
		return fmt.Errorf("GET %s: %w", httporigin.Redact(f.url), err)
	}
	return nil
}

// switchToSeq records that the server ignores Range and keeps s (a whole
// body at offset 0) as the sequential stream.
func (f *file) switchToSeq(s *stream) {
	if !f.seq.Swap(true) {
		f.t.log.Info("urllist: server ignores Range; reading sequentially", "path", f.path)
		if err := f.t.ix.setRanges(f.ctx, f.path, rangesNo); err != nil {
			f.t.log.Warn("urllist: cannot record a server without Range support", "path", f.path, slog.Any("error", err))
		}
	}
	f.seqMu.Lock()
	defer f.seqMu.Unlock()
	if f.cur == nil {
		f.cur = s
	} else {
		s.close()
	}
}

// readFull fills p from the body. A body that ends early gives
// ErrSizeMismatch; one that breaks, or sends nothing for idle, a bodyError.
func (s *stream) readFull(p []byte, idle time.Duration) (int, error) {
	n := 0
	for n < len(p) {
		s.timer.Reset(idle)
		m, err := s.body.Read(p[n:])
		s.timer.Stop()
		n += m
		s.pos += int64(m)
		switch {
		case errors.Is(err, io.EOF) && n < len(p):
			return n, fmt.Errorf("response ended at byte %d, want %d: %w", s.pos, s.end, ErrSizeMismatch)
		case errors.Is(err, io.EOF):
			return n, nil
		case err != nil && s.ctx.Err() != nil:
			return n, &bodyError{fmt.Errorf("no data for %s: %w", idle, err)}
		case err != nil:
			return n, &bodyError{err}
		}
	}
	return n, nil
}

// skip discards bytes up to off.
func (s *stream) skip(off int64, idle time.Duration) error {
	if s.pos >= off {
		return nil
	}
	buf := make([]byte, min(off-s.pos, 64<<10))
	for s.pos < off {
		if _, err := s.readFull(buf[:min(int64(len(buf)), off-s.pos)], idle); err != nil {
			return err
		}
	}
	return nil
}

// finish checks, once end is reached, that a response of undeclared length
// sends nothing more.
func (s *stream) finish(idle time.Duration) error {
	if s.exact {
		return nil
	}
	var b [1]byte
	s.timer.Reset(idle)
	n, _ := io.ReadFull(s.body, b[:])
	s.timer.Stop()
	if n > 0 {
		return fmt.Errorf("server sends more than %d bytes: %w", s.end, ErrSizeMismatch)
	}
	return nil
}

// close ends the response.
func (s *stream) close() {
	s.timer.Stop()
	s.cancel()
	s.body.Close()
}
