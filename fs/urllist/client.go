package urllist

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/httporigin"
)

// ErrUnreachable reports a URL that could not be read for a reason other
// than a 404/410 (fs.ErrNotExist) or a 401/403 (fs.ErrPermission): a
// connection reset, a 5xx after every retry, a server that gives no size.
var ErrUnreachable = errors.New("url unreachable")

// Kinds of failure recorded in the index for a URL that could not be sized.
const (
	kindNone       = 0
	kindNotExist   = 1
	kindPermission = 2
	kindOther      = 3
)

// errKind classifies err for the index.
func errKind(err error) int {
	switch {
	case err == nil:
		return kindNone
	case errors.Is(err, fs.ErrNotExist):
		return kindNotExist
	case errors.Is(err, fs.ErrPermission):
		return kindPermission
	}
	return kindOther
}

// kindErr is the sentinel that errors of kind wrap.
func kindErr(kind int) error {
	switch kind {
	case kindNotExist:
		return fs.ErrNotExist
	case kindPermission:
		return fs.ErrPermission
	}
	return ErrUnreachable
}

// listedError is a sizing failure recorded in the index, returned again by
// Open; it wraps the sentinel of its kind.
type listedError struct {
	msg  string
	kind int
}

func (e *listedError) Error() string { return e.msg }
func (e *listedError) Unwrap() error { return kindErr(e.kind) }

// newClient wraps o.HTTPClient (nil: a pooled client with dial, TLS and
// response-header timeouts) in go-retryablehttp: connection errors, 429 and
// 5xx (but 501) are retried with exponential backoff (honouring
// Retry-After); 4xx answers, 404 among them, are not.
func newClient(o Options) *retryablehttp.Client {
	hc := o.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(16, 2*o.Concurrency)
		tr.ResponseHeaderTimeout = time.Minute
		hc = &http.Client{Transport: tr}
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = hc
	c.Logger = nil // it would log every URL; errors are returned instead
	c.RetryMax = o.RetryMax
	if o.RetryMax == 0 {
		c.RetryMax = 4
	} else if o.RetryMax < 0 {
		c.RetryMax = 0
	}
	if o.RetryWaitMin > 0 {
		c.RetryWaitMin = o.RetryWaitMin
	}
	if o.RetryWaitMax > 0 {
		c.RetryWaitMax = o.RetryWaitMax
	}
	c.ErrorHandler = httporigin.LastAnswer
	return c
}

// statusError describes an unexpected answer: 404 and 410 wrap
// fs.ErrNotExist, 401 and 403 fs.ErrPermission, anything else
// ErrUnreachable.
func statusError(method, rawURL string, resp *http.Response) error {
	var kind int
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusGone:
		kind = kindNotExist
	case http.StatusUnauthorized, http.StatusForbidden:
		kind = kindPermission
	default:
		kind = kindOther
	}
	return fmt.Errorf("%s %s: server answered %s: %w", method, httporigin.Redact(rawURL), resp.Status, kindErr(kind))
}
