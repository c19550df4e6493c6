// Package stalltest serves requests that stop moving, for the tests of the
// drivers that guard their requests with package stall.
package stalltest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ferry-project/ferry/fs"
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

// Driver is what Check needs of a store driver.
type Driver interface {
	fs.EntryOpener
	Put(ctx context.Context, key string, r io.ReadSeeker, size int64) (fs.ObjectInfo, error)
	IsPermanent(err error) bool
}

// Check asserts what d, pointed at Server, does: a read of the BodySize
// bytes of object "k" and a Put of BigBody bytes each fail with a stall
// error that d.IsPermanent calls transient.
func Check(t testing.TB, d Driver) {
	t.Helper()
	ctx := context.Background()
	f, err := d.OpenEntry(ctx, fs.Entry{Path: "k", Size: BodySize})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(make([]byte, BodySize), 0); !errors.Is(err, stall.ErrStalled) || d.IsPermanent(err) {
		t.Errorf("read from a stalled body: %v (permanent %t), want a transient stall error", err, d.IsPermanent(err))
	}
	big := make([]byte, BigBody)
	if _, err := d.Put(ctx, "k", bytes.NewReader(big), BigBody); !errors.Is(err, stall.ErrStalled) || d.IsPermanent(err) {
		t.Errorf("put to a server that takes no bytes: %v (permanent %t), want a transient stall error", err, d.IsPermanent(err))
	}
}
