package azblob

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ferry-project/ferry/fs/internal/stall"
)

// transport is the SDK's Transporter: it sends each request with the
// Store's HTTP client under a stall guard (a body that moves no byte for
// stall.DefaultTimeout abandons the request), and strips the query (which
// may hold a SAS signature) from the URL of transport errors, so no
// secret reaches an error message or a log.
type transport struct {
	client *http.Client
	stall  time.Duration // stall.DefaultTimeout when 0
}

var _ policy.Transporter = (*transport)(nil)

// Do sends req.
func (t *transport) Do(req *http.Request) (*http.Response, error) {
	g := stall.Start(req.Context(), t.stall)
	out := req.WithContext(g.Context())
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength != 0 {
		out.Body = readCloser{g.Reader(req.Body), req.Body}
		if req.GetBody != nil {
			out.GetBody = func() (io.ReadCloser, error) {
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				return readCloser{g.Reader(b), b}, nil
			}
		}
	}
	resp, err := t.client.Do(out)
	if err != nil {
		g.Stop()
		// Redact first: the guard's wrapper formats the message at once.
		return nil, g.Err(redactErr(err))
	}
	resp.Body = g.Body(resp.Body)
	return resp, nil
}

// readCloser is a reader with another value's Close.
type readCloser struct {
	io.Reader
	io.Closer
}

// redactErr removes the query and user info from the URL of a *url.Error
// in err's chain.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}

// newHTTPClient returns a keep-alive client with bounded waits (dial, TLS,
// response headers) but no overall timeout, so a large block may take as
// long as it moves. Compression is off so ranged bodies arrive verbatim.
func newHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	return &http.Client{Transport: tr}
}
