package urllist

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// pin is the version of a URL that every read of one open file must come
// from, so that bytes of two versions never meet in one copy.
//
// The version is named by the origin's validator: its ETag when it gives
// one, else its Last-Modified. The walk's HEAD (when the URL was probed)
// sets it; otherwise the first response of the file does. Every request
// then carries it (If-Match with a strong ETag, If-Unmodified-Since with a
// date, and If-Range on ranged requests), and every response is checked
// against it: another ETag, another Last-Modified, a validator gone
// missing, a 412, or a 200 whose validator differs (an origin honouring
// If-Range sends the whole new version) means the URL changed.
//
// An origin that gives neither ETag nor Last-Modified cannot name its
// versions: then only the size is pinned (Content-Range total and
// Content-Length must stay the file's size), so a change that keeps the
// size between two requests (two ranged GETs, or a broken body and its
// resumption) goes unnoticed. A listed MD5 (TSV) still catches it after
// the copy. Neither can a change within one response be seen: an origin
// that rewrites a file in place while sending it sends a mix itself.
type pin struct {
	mu       sync.Mutex
	etag     string    // ETag as sent, "" none
	modified time.Time // Last-Modified, zero none
	// sized is true when the size is the origin's own (a HEAD at the
	// walk, or an earlier response): another size then is a change, not
	// a wrong list.
	sized bool
}

// newPin pins what the walk saw of r (nothing for a URL the list sized).
func newPin(r row) *pin {
	return &pin{etag: r.etag, modified: r.mtime, sized: r.probed}
}

// strong reports whether etag may be sent in If-Match or If-Range, which
// compare strongly: a weak ETag never matches there.
func strong(etag string) bool { return etag != "" && !strings.HasPrefix(etag, "W/") }

// condition adds the pinned validator to a request's headers; ranged
// requests also get If-Range.
func (p *pin) condition(h http.Header, ranged bool) {
	p.mu.Lock()
	etag, modified := p.etag, p.modified
	p.mu.Unlock()
	var ifRange string
	switch {
	case strong(etag):
		h.Set("If-Match", etag)
		ifRange = etag
	case etag == "" && !modified.IsZero():
		date := modified.Format(http.TimeFormat)
		h.Set("If-Unmodified-Since", date)
		ifRange = date
	}
	if ranged && ifRange != "" {
		h.Set("If-Range", ifRange)
	}
}

// check compares a response's validators with the pinned ones, adopting
// them when nothing is pinned yet, and its total size (-1 unknown) with
// size. The error wraps fs.ErrChanged when the URL provably changed, and
// ErrSizeMismatch when only the size disagrees with a listed one.
func (p *pin) check(h http.Header, total, size int64) error {
	etag := h.Get("ETag")
	var modified time.Time
	if lm := h.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			modified = t.UTC()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.etag != "" && etag != p.etag:
		return fmt.Errorf("ETag is now %s, was %s: %w", orNone(etag), p.etag, fs.ErrChanged)
	case p.etag == "" && !p.modified.IsZero() && !modified.Equal(p.modified):
		return fmt.Errorf("Last-Modified is now %s, was %s: %w", orNone(h.Get("Last-Modified")), p.modified.Format(http.TimeFormat), fs.ErrChanged)
	case p.etag == "" && p.modified.IsZero():
		p.etag, p.modified = etag, modified
	}
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

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}
