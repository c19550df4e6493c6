package httporigin

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
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
// headers; a 5xx that outlives the retries is handed to the caller.
func TestDo_answer(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	req, err := NewRequest(context.Background(), http.MethodGet, srv.URL+"/x", http.Header{"Range": {"bytes=0-9"}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Do(testClient(), req)
	if err != nil {
		t.Fatalf("Do = %v, want the last answer", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got.Get("Accept-Encoding") != "identity" || got.Get("Range") != "bytes=0-9" {
		t.Fatalf("request headers %v", got)
	}
}

// A request that cannot be sent names the URL redacted, never the
// secret in it, with how often it was tried.
func TestDo_error(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	req, err := NewRequest(context.Background(), http.MethodHead, "http://u:secret@"+addr+"/x?a=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Do(testClient(), req)
	if err == nil {
		t.Fatal("Do to a closed port succeeded")
	}
	msg := err.Error()
	if strings.Contains(msg, "secret") || !strings.HasPrefix(msg, "HEAD http://u:xxxxx@"+addr+"/x?a=1: ") || !strings.Contains(msg, "(after 2 attempts)") {
		t.Fatalf("error %q", msg)
	}
	if _, err := NewRequest(context.Background(), http.MethodGet, "http://u:secret@h/%zz", nil); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("NewRequest of a bad URL = %v", err)
	}
}
