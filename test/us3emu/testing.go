package us3emu

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// Credentials and bucket StartForTest uses when Options leave them empty.
const (
	TestPublicKey  = "us3emu-test-public-key"
	TestPrivateKey = "us3emu-test-private-key"
	TestBucket     = "test-bucket"
)

// StartForTest starts an emulator on 127.0.0.1 (httptest) and returns it
// with its endpoint URL ("http://127.0.0.1:port"). Empty options default to
// a t.TempDir root, TestPublicKey/TestPrivateKey and the one bucket
// TestBucket. The server is closed on t.Cleanup.
func StartForTest(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	if opts.Root == "" {
		opts.Root = t.TempDir()
	}
	if opts.PublicKey == "" && opts.PrivateKey == "" {
		opts.PublicKey, opts.PrivateKey = TestPublicKey, TestPrivateKey
	}
	if len(opts.Buckets) == 0 {
		opts.Buckets = []string{TestBucket}
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("start us3emu: %v", err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// NewClient returns an http.Client that connects every request to the
// emulator at endpoint whatever host the URL names, keeping the Host header.
// With it the SDK's default form (Config.FileHost set, Endpoint empty:
// http://<bucket>.<FileHost>/key) reaches the emulator, which then picks the
// bucket from the Host.
func NewClient(endpoint string) *http.Client {
	addr := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		addr = u.Host
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}
