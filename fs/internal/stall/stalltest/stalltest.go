// Package stalltest serves requests that stop moving, for the tests of the
// drivers that guard their requests with package stall.
package stalltest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ferry-project/ferry/fs/internal/stall"
)

// BodySize is the Content-Length the server announces for a GET, of
// which it sends only the first 10 bytes.
const BodySize = 100

// BigBody is a size of request body that fills the socket buffers, so a
// server that reads nothing stops the upload.
const BigBody = 64 << 20

// Server starts a loopback HTTP server that answers every GET with 206,
// Content-Range "bytes 0-99/100" and only 10 of those bytes, and never
// reads the body of, nor answers, any other request. It lives until the
// test ends.
func Server(t testing.TB) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Range", "bytes 0-99/100")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = w.Write(make([]byte, 10))
			w.(http.Flusher).Flush()
		}
		<-release
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv
}

// Check asserts what a driver does against Server: read (a read of
// BodySize bytes at offset 0 of an object there) and put (an upload of
// body, BigBody bytes) each fail with a stall error that permanent calls
// transient.
func Check(t testing.TB, read func() error, put func(body io.ReadSeeker, size int64) error, permanent func(error) bool) {
	t.Helper()
	if err := read(); !errors.Is(err, stall.ErrStalled) || permanent(err) {
		t.Errorf("read from a stalled body: %v (permanent %t), want a transient stall error", err, permanent(err))
	}
	big := make([]byte, BigBody)
	if err := put(bytes.NewReader(big), BigBody); !errors.Is(err, stall.ErrStalled) || permanent(err) {
		t.Errorf("put to a server that takes no bytes: %v (permanent %t), want a transient stall error", err, permanent(err))
	}
}
