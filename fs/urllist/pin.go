package urllist

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/httporigin"
)

// pin is the version of a URL that every read of one open file must come
// from, so that bytes of two versions never meet in one copy. Every request
// carries it and every response is checked against it by the rule of
// httporigin.Version: another ETag, another Last-Modified, a validator gone
// missing, a 412, or a 200 whose validator differs (an origin honouring
// If-Range sends the whole new version) means the URL changed.
//
// The walk's HEAD (when the URL was probed) sets the version; otherwise
// the first response that names one does.
//
// An origin that gives neither ETag nor Last-Modified cannot name its
// versions: then only the size is pinned (Content-Range total and
// Content-Length must stay the file's size), so a change that keeps the
// size between two requests (two ranged GETs, or a broken body and its
// resumption) goes unnoticed. A listed MD5 (TSV) still catches it after
// the copy.
type pin struct {
	ver *httporigin.Pin
	mu  sync.Mutex
	// sized is true when the size is the origin's own (a HEAD at the
	// walk, or an earlier response): another size then is a change, not
	// a wrong list.
	sized bool
}

// newPin pins what the walk saw of r (nothing for a URL the list sized).
func newPin(r row) *pin {
	return &pin{ver: httporigin.NewPin(httporigin.Version{ETag: r.etag, Modified: r.mtime}), sized: r.probed}
}

// check compares a response's validators with the pinned ones, adopting
// them when nothing is pinned yet, and its total size (-1 unknown) with
// size. The error wraps fs.ErrChanged when the URL provably changed, and
// ErrSizeMismatch when only the size disagrees with a listed one.
func (p *pin) check(h http.Header, total, size int64) error {
	if err := p.ver.Check(h); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case total < 0:
		return nil
	case total != size && p.sized:
		return fmt.Errorf("size is now %d bytes, was %d: %w: %w", total, size, ErrSizeMismatch, fs.ErrChanged)
	case total != size:
		return fmt.Errorf("server reports %d bytes, listed size is %d: %w", total, size, ErrSizeMismatch)
	}
	p.sized = true
	return nil
}
