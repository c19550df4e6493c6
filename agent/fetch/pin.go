package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ferry-project/ferry/fs"
)

// pin is the version of the origin's object that one Execute stores: the
// validator and size of the first response it relies on (the HEAD, whose
// size lays out ranged parts; the first GET of a streamed download). Every
// later request carries it (If-Match with a
// strong ETag, If-Unmodified-Since with a date, If-Range when ranged) and
// every response is checked against it: another ETag, another
// Last-Modified, a validator gone missing, another size, a 412, or a 200
// to a ranged request whose validator differs (an origin honouring
// If-Range sends the new version whole) means the object changed. The
// download then stops with a retryable failure wrapping fs.ErrChanged
// ("source changed during copy"), its multipart upload is aborted, and the
// task is tried again from the start as a new lease.
//
// An origin that gives neither ETag nor Last-Modified cannot name its
// versions: only the size is pinned, so a change that keeps the size
// between two ranged GETs goes unnoticed. A streamed download (one GET)
// holds one response's bytes only, whatever the origin.
//
// fs/urllist pins its reads by the same rule (its pin.go).
type pin struct {
	mu       sync.Mutex
	set      bool      // the first response was seen
	etag     string    // ETag as sent, "" none
	modified time.Time // Last-Modified, zero none
	size     int64     // -1 unknown
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

// check compares a response's validators and total size (-1 unknown) with
// the pinned ones; the first response sets them. The error wraps
// fs.ErrChanged.
func (p *pin) check(h http.Header, total int64) error {
	etag := h.Get("ETag")
	var modified time.Time
	if lm := h.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			modified = t.UTC()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.set {
		p.set, p.etag, p.modified, p.size = true, etag, modified, total
		return nil
	}
	switch {
	case p.etag != "" && etag != p.etag:
		return fmt.Errorf("ETag is now %s, was %s: %w", orNone(etag), p.etag, fs.ErrChanged)
	case p.etag == "" && !p.modified.IsZero() && !modified.Equal(p.modified):
		return fmt.Errorf("Last-Modified is now %s, was %s: %w", orNone(h.Get("Last-Modified")), p.modified.Format(http.TimeFormat), fs.ErrChanged)
	case total >= 0 && p.size >= 0 && total != p.size:
		return fmt.Errorf("size is now %d bytes, was %d: %w", total, p.size, fs.ErrChanged)
	}
	if p.size < 0 {
		p.size = total
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// changed is the retryable failure of a download whose source changed.
func changed(err error) error { return retryf(err, "%v", err) }

// request sends method to the task's URL with an optional Range and the
// pin's conditions, asking for the bytes as stored (no content coding). A
// 412 answer is a change (an error wrapping fs.ErrChanged).
func (j *job) request(ctx context.Context, method, rng string) (*http.Response, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, method, j.t.URL, nil)
	if err != nil {
		return nil, fail(err, "invalid Url: %v", err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "ferry-fetch")
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	j.pin.condition(req.Header, rng != "")
	resp, err := j.c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, originError(fmt.Errorf("%s %s: %w", method, redact(j.t.URL), err))
	}
	if resp.StatusCode == http.StatusPreconditionFailed {
		resp.Body.Close()
		return nil, changed(fmt.Errorf("origin answered %s to a request pinned to the version first seen: %w", resp.Status, fs.ErrChanged))
	}
	return resp, nil
}
