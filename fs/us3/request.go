package us3

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ferry-project/ferry/fs/internal/stall"
)

// call is one signed request to the bucket.
type call struct {
	op          string // operation name for errors
	method      string
	key         string // full object key; "" for bucket-level calls
	query       string // raw query, e.g. "uploads" or "uploadId=…"
	contentType string // sent and signed when non-empty
	header      http.Header
	// body and size: size < 0 means no body. A body that is an
	// io.ReadSeeker is rewound for the transport's own replays.
	body io.ReadSeeker
	size int64
}

// do sends c and returns the 2xx response (its body open, to be closed)
// or an *Error. A request whose body (either way) moves no byte for
// s.stall is abandoned with an error wrapping stall.ErrStalled, which
// IsPermanent treats as transient.
func (s *Store) do(ctx context.Context, c call) (*http.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: c.op, Key: c.key, Err: err}
	}
	g := stall.Start(ctx, s.stall)
	resp, err := s.send(g, c)
	if err != nil {
		g.Stop()
		if e, ok := err.(*Error); ok {
			e.Err = g.Err(e.Err)
		}
		return nil, err
	}
	resp.Body = g.Body(resp.Body)
	return resp, nil
}

// send is do's request under the stall guard g.
func (s *Store) send(g *stall.Guard, c call) (*http.Response, error) {
	ctx := g.Context()
	u := &url.URL{Scheme: s.scheme, Host: s.urlHost, Path: "/" + c.key, RawQuery: c.query}
	req, err := http.NewRequestWithContext(ctx, c.method, s.scheme+"://"+s.urlHost+"/", nil)
	if err != nil {
		return nil, &Error{Op: c.op, Key: c.key, Err: err}
	}
	req.URL = u
	req.Host = s.hostHeader
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.size >= 0 && c.body != nil {
		setBody(req, c.body, c.size, g)
	}
	req.Header.Set("Authorization", s.auth.Authorization(c.method, s.bucket, c.key, req.Header))
	resp, err := s.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return nil, &Error{Op: c.op, Key: c.key, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, respError(c.op, c.key, resp)
	}
	return resp, nil
}

// setBody attaches exactly size bytes of r, read from its start, with an
// explicit Content-Length, watched by g; GetBody rewinds r so the
// transport may replay it on a stale keep-alive connection.
func setBody(req *http.Request, r io.ReadSeeker, size int64, g *stall.Guard) {
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	open := func() (io.ReadCloser, error) {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewind body: %w", err)
		}
		return io.NopCloser(g.Reader(io.LimitReader(r, size))), nil
	}
	req.GetBody = open
	body, err := open()
	if err != nil {
		body = io.NopCloser(errReader{err})
	}
	req.Body = body
}

// errReader fails every read; it carries a rewind error into the request.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// doJSON sends c and decodes the 2xx JSON body into v. A body that cannot
// be read or decoded (a dropped connection) gives a non-permanent *Error.
func (s *Store) doJSON(ctx context.Context, c call, v any) (http.Header, error) {
	resp, err := s.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &Error{Op: c.op, Key: c.key, Err: fmt.Errorf("read response: %w", err)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, &Error{Op: c.op, Key: c.key, Err: fmt.Errorf("decode response: %w", err)}
	}
	return resp.Header, nil
}

// doDiscard sends c, drains and closes the body and returns the headers.
func (s *Store) doDiscard(ctx context.Context, c call) (http.Header, error) {
	resp, err := s.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrBody)); err != nil {
		return nil, &Error{Op: c.op, Key: c.key, Err: fmt.Errorf("read response: %w", err)}
	}
	return resp.Header, nil
}

// fullKey maps a key relative to the prefix to the bucket key.
func (s *Store) fullKey(key string) string { return s.prefix + key }

// contentType is the MIME type sent for key: by extension, else octet-stream.
func contentType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// etagOf returns the unquoted ETag header.
func etagOf(h http.Header) string {
	return strings.Trim(h.Get("ETag"), `"`)
}

// modTimeOf parses Last-Modified, or returns the zero time.
func modTimeOf(h http.Header) time.Time {
	t, err := http.ParseTime(h.Get("Last-Modified"))
	if err != nil {
		return time.Time{}
	}
	return t
}
