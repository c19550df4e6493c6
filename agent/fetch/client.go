package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ferry-project/ferry/internal/httporigin"
)

// Timeouts of origin connections.
const (
	dialTimeout   = 10 * time.Second
	keepAlive     = 30 * time.Second
	headerTimeout = time.Minute
)

// originClient builds the retrying HTTP client for origins under policy p:
// no proxy (the dialed address must be the origin's), the policy's dialer
// and redirect check, keep-alive pooled for conns connections, and
// go-retryablehttp retrying connection errors, 429 and 5xx (not 501) with
// exponential backoff honouring Retry-After — but never a policy refusal.
func originClient(p Policy, conns, retryMax int, waitMin, waitMax time.Duration) *retryablehttp.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           p.dialer().DialContext,
		MaxIdleConns:          max(64, 2*conns),
		MaxIdleConnsPerHost:   max(16, 2*conns),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: tr, CheckRedirect: p.CheckRedirect}
	c.Logger = nil
	c.RetryMax = retryMax
	c.RetryWaitMin, c.RetryWaitMax = waitMin, waitMax
	c.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if errors.Is(err, ErrRefused) {
			return false, err
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	c.ErrorHandler = lastAnswer
	return c
}

// lastAnswer is the ErrorHandler once retries are exhausted
// (httporigin.LastAnswer), except that a policy refusal is returned as it
// is, once.
func lastAnswer(resp *http.Response, err error, tries int) (*http.Response, error) {
	if errors.Is(err, ErrRefused) {
		if resp != nil {
			resp.Body.Close()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	return httporigin.LastAnswer(resp, err, tries)
}

// get sends method to rawURL with an optional Range, asking for the bytes
// as stored (no content coding).
func get(ctx context.Context, c *retryablehttp.Client, method, rawURL, rng string) (*http.Response, error) {
	return httporigin.Get(ctx, c, method, rawURL, rng, http.Header{"User-Agent": {"ferry-fetch"}}, nil)
}
