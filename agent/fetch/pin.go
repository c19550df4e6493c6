package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/httporigin"
)

// pin is the version of the origin's object that one Execute stores: the
// validator and size of the first response it relies on (the HEAD, whose
// size lays out ranged parts; the first GET of a streamed download). Every
// later request carries the validator and every response is checked
// against it by the rule of httporigin.Version; another size, a 412, or a
// 200 to a ranged request whose validator differs (an origin honouring
// If-Range sends the new version whole) also means the object changed.
// The download then stops with a retryable failure wrapping fs.ErrChanged
// ("source changed during copy"), its multipart upload is aborted, and the
// task is tried again from the start as a new lease.
//
// An origin that gives neither ETag nor Last-Modified cannot name its
// versions: only the size is pinned, so a change that keeps the size
// between two ranged GETs goes unnoticed. A streamed download (one GET)
// holds one response's bytes only, whatever the origin.
//
// fs/urllist pins its reads by the same rule.
type pin struct {
	ver  *httporigin.Pin
	mu   sync.Mutex
	set  bool  // the first response was seen
	size int64 // -1 unknown
}

func newPin() *pin { return &pin{ver: httporigin.NewPin(httporigin.Version{})} }

// check compares a response's validators and total size (-1 unknown) with
// the pinned ones; the first response sets them. The error wraps
// fs.ErrChanged.
func (p *pin) check(h http.Header, total int64) error {
	if err := p.ver.Check(h); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.set:
		p.set, p.size = true, total
	case total >= 0 && p.size >= 0 && total != p.size:
		return fmt.Errorf("size is now %d bytes, was %d: %w", total, p.size, fs.ErrChanged)
	case p.size < 0:
		p.size = total
	}
	return nil
}

// changed is the retryable failure of a download whose source changed.
func changed(err error) error { return retryf(err, "%v", err) }

// request sends method to the task's URL with an optional Range and the
// pin's conditions, asking for the bytes as stored (no content coding). A
// 412 answer is a change (an error wrapping fs.ErrChanged).
func (j *job) request(ctx context.Context, method, rng string) (*http.Response, error) {
	resp, err := httporigin.Get(ctx, j.c, method, j.t.URL, rng, http.Header{"User-Agent": {"ferry-fetch"}}, j.pin.ver)
	switch {
	case errors.Is(err, fs.ErrChanged):
		return nil, changed(err)
	case err != nil:
		return nil, originError(err)
	}
	return resp, nil
}
