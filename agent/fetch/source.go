package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/httporigin"
)

// errIgnoresRange: a ranged GET got the whole object (200): the executor
// falls back to streaming.
var errIgnoresRange = errors.New("origin ignores Range")

// source is the origin's object as the Copier reads it (an fs.File),
// pinned to one version (see pin). A ranged source answers each ReadAt
// with one ranged GET (parts read in parallel); any other is one plain
// GET, read in order. Its errors are the task's failures (failure,
// bodyError); the Copier does not retry them.
type source struct {
	j      *job
	ctx    context.Context // the task's: ReadAt has no context of its own
	ranged bool

	mu   sync.Mutex    // guards the stream
	body io.ReadCloser // the plain GET's body; nil before the first read
	pos  int64         // offset of the body's next byte
	size int64         // the plain GET's Content-Length (-1 unknown)
}

var _ fs.File = (*source)(nil)

// ReadAt fills p at off, or up to the end of the object with io.EOF.
func (s *source) ReadAt(p []byte, off int64) (int, error) {
	if s.ranged {
		if err := s.j.readRange(s.ctx, off, p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.body == nil {
		if err := s.open(); err != nil {
			return 0, err
		}
	}
	if off != s.pos {
		return 0, fmt.Errorf("read at %d of a stream at %d", off, s.pos)
	}
	n := 0
	for n < len(p) {
		k, err := s.body.Read(p[n:])
		n += k
		s.pos += int64(k)
		switch {
		case errors.Is(err, io.EOF):
			return n, io.EOF
		case err != nil:
			return n, &bodyError{err}
		}
	}
	return n, nil
}

// Size is the object's size as the plain GET declared it, -1 unknown.
func (s *source) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Close ends the plain GET.
func (s *source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.body != nil {
		s.body.Close()
		s.body = nil
	}
	return nil
}

// open sends the plain GET; its answer sets the pin.
func (s *source) open() error {
	resp, err := s.j.request(s.ctx, http.MethodGet, "")
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := statusFailure(resp)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			err.(*failure).retry = true
		}
		return err
	}
	if err := s.j.pin.check(resp.Header, resp.ContentLength); err != nil {
		resp.Body.Close()
		return changed(err)
	}
	s.body, s.pos, s.size = resp.Body, 0, resp.ContentLength
	return nil
}

// readRange fills b with the bytes at off of the pinned version, retrying
// a broken body up to RetryMax times.
func (j *job) readRange(ctx context.Context, off int64, b []byte) error {
	rng := fmt.Sprintf("bytes=%d-%d", off, off+int64(len(b))-1)
	return j.again(ctx, func() error { return j.readRangeOnce(ctx, rng, off, b) })
}

// bodyError is a response body that broke: worth a new request.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "download failed: read body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// readRangeOnce sends one ranged GET, pinned, and reads its body into b.
func (j *job) readRangeOnce(ctx context.Context, rng string, off int64, b []byte) error {
	resp, err := j.request(ctx, http.MethodGet, rng)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		// The whole object: a new version (an origin honouring If-Range),
		// which the pin tells, or an origin that ignores Range.
		if err := j.pin.check(resp.Header, resp.ContentLength); err != nil {
			return changed(err)
		}
		return errIgnoresRange
	case http.StatusRequestedRangeNotSatisfiable:
		return changed(fmt.Errorf("origin answered %s to %s, within the size it first reported: %w", resp.Status, rng, fs.ErrChanged))
	default:
		return statusFailure(resp)
	}
	first, _, size, err := httporigin.ParseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return fail(err, "download failed: %v", err)
	}
	if err := j.pin.check(resp.Header, size); err != nil {
		return changed(err)
	}
	if first != off {
		err := fmt.Errorf("source answered %s with %q", rng, resp.Header.Get("Content-Range"))
		return fail(err, "download failed: %v", err)
	}
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		return &bodyError{err}
	}
	return nil
}
