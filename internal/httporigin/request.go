package httporigin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ferry-project/ferry/fs"
)

// Get sends method for rawURL through c (with c's retries), asking for the
// bytes as stored: the headers in h (nil: none), "Range: rng" unless rng
// is "", and pin's conditions (nil: none; If-Range too with a Range). A
// 412, the URL no longer being the pinned version, closes the response
// and gives an error wrapping fs.ErrChanged. Errors name the URL redacted.
func Get(ctx context.Context, c *retryablehttp.Client, method, rawURL, rng string, h http.Header, pin *Pin) (*http.Response, error) {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	if rng != "" {
		h.Set("Range", rng)
	}
	if pin != nil {
		pin.Condition(h, rng != "")
	}
	req, err := newRequest(ctx, method, rawURL, h)
	if err != nil {
		return nil, err
	}
	resp, err := do(c, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusPreconditionFailed {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: origin answered %s to a request pinned to the version first seen: %w", method, Redact(rawURL), resp.Status, fs.ErrChanged)
	}
	return resp, nil
}

// newRequest builds a request for rawURL with the headers in h (Range,
// conditions, User-Agent; nil for none) that asks for the bytes as stored:
// net/http would otherwise ask plain GETs for gzip and inflate them,
// changing both the bytes and the length. The error names the URL
// redacted.
func newRequest(ctx context.Context, method, rawURL string, h http.Header) (*retryablehttp.Request, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("build request for %s: %w", Redact(rawURL), unwrapURL(err))
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Accept-Encoding", "identity")
	return req, nil
}

// do sends req through c, with c's retries. A request that fails gives
// "METHOD URL: reason", the URL redacted (net/url's own wrapper, which
// repeats the URL whole, is removed).
func do(c *retryablehttp.Client, req *retryablehttp.Request) (*http.Response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, Redact(req.URL.String()), unwrapURL(err))
	}
	return resp, nil
}

// LastAnswer is a go-retryablehttp ErrorHandler for when retries are
// exhausted: the last response, when there is one, goes to the caller,
// which judges its status; otherwise the network error, without the URL
// (Get adds it redacted), and how often it was tried.
func LastAnswer(resp *http.Response, err error, tries int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	return nil, fmt.Errorf("%w (after %d attempts)", unwrapURL(err), tries)
}

// unwrapURL removes net/url's wrapper, whose message holds the raw URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
