package httporigin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ferry-project/ferry/fs"
)

func testClient() *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.Logger = nil
	c.RetryMax = 1
	c.RetryWaitMin, c.RetryWaitMax = time.Millisecond, time.Millisecond
	c.ErrorHandler = LastAnswer
	return c
}

// The request asks for the bytes as stored and carries the caller's
// headers, the Range and the pin's conditions; a 5xx that outlives the
// retries is handed to the caller; a 412 is a change.
func TestGet_answer(t *testing.T) {
	var got http.Header
	status := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(status)
	}))
	defer srv.Close()
	ctx := context.Background()
	pin := NewPin(Version{ETag: `"v1"`})
	resp, err := Get(ctx, testClient(), http.MethodGet, srv.URL+"/x", "bytes=0-9", http.Header{"User-Agent": {"t"}}, pin)
	if err != nil {
		t.Fatalf("Get = %v, want the last answer", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got.Get("Accept-Encoding") != "identity" || got.Get("Range") != "bytes=0-9" || got.Get("User-Agent") != "t" ||
		got.Get("If-Match") != `"v1"` || got.Get("If-Range") != `"v1"` {
		t.Fatalf("request headers %v", got)
	}
	status = http.StatusPreconditionFailed
	if _, err := Get(ctx, testClient(), http.MethodGet, srv.URL+"/x", "", nil, pin); !errors.Is(err, fs.ErrChanged) {
		t.Fatalf("Get answered 412 = %v, want fs.ErrChanged", err)
	}
	if got.Get("Range") != "" || got.Get("If-Range") != "" || got.Get("If-Match") != `"v1"` {
		t.Fatalf("plain request headers %v", got)
	}
}

// A request that cannot be sent names the URL redacted, never the
// secret in it, with how often it was tried.
func TestGet_error(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = Get(context.Background(), testClient(), http.MethodHead, "http://u:secret@"+addr+"/x?a=1", "", nil, nil)
	if err == nil {
		t.Fatal("Do to a closed port succeeded")
	}
	msg := err.Error()
	if strings.Contains(msg, "secret") || !strings.HasPrefix(msg, "HEAD http://u:xxxxx@"+addr+"/x?a=1: ") || !strings.Contains(msg, "(after 2 attempts)") {
		t.Fatalf("error %q", msg)
	}
	if _, err := Get(context.Background(), testClient(), http.MethodGet, "http://u:secret@h/%zz", "", nil, nil); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Get of a bad URL = %v", err)
	}
}
