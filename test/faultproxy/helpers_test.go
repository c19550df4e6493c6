package faultproxy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// origin is a real HTTP server on loopback: GET /blob?n=N&seed=S answers
// payload(N, S); PUT /echo answers its request body. Responses carry no
// Date header, so the same request always gets the same bytes.
type origin struct {
	srv *httptest.Server
	// bodies receives the number of body bytes each PUT /echo read and
	// whether its body ended early.
	bodies chan bodyRead
}

type bodyRead struct {
	n   int64
	err error
}

func startOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{bodies: make(chan bodyRead, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /blob", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		seed, _ := strconv.ParseUint(r.URL.Query().Get("seed"), 10, 64)
		w.Header()["Date"] = nil
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write(payload(n, seed))
	})
	mux.HandleFunc("PUT /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		o.bodies <- bodyRead{int64(len(body)), err}
		if err != nil {
			return
		}
		w.Header()["Date"] = nil
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	o.srv = httptest.NewServer(mux)
	t.Cleanup(o.srv.Close)
	return o
}

// addr is the origin's host:port.
func (o *origin) addr() string { return o.srv.Listener.Addr().String() }

// startProxy starts a proxy in front of target, closed when the test ends.
func startProxy(t *testing.T, opts Options) *Proxy {
	t.Helper()
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// payload returns n deterministic pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// getRequest is a raw GET /blob request that closes its connection.
func getRequest(n int, seed uint64) []byte {
	return fmt.Appendf(nil, "GET /blob?n=%d&seed=%d HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n\r\n", n, seed)
}

// putRequest is a raw PUT /echo request with body that closes its
// connection, and the length of its header.
func putRequest(body []byte) ([]byte, int) {
	head := fmt.Appendf(nil, "PUT /echo HTTP/1.1\r\nHost: origin\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	return append(head, body...), len(head)
}

// exchange dials addr, writes req (concurrently with reading) and reads
// until EOF or an error. It returns every byte read and the error that
// ended the exchange (nil at a clean EOF): a failed write counts only when
// the read ended cleanly.
func exchange(t *testing.T, addr string, req []byte) ([]byte, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		// A proxy that resets at once may do it before the handshake
		// completes: the dial's error is then the exchange's.
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // a guard against a hang, not a measure
	werr := make(chan error, 1)
	go func() { _, err := c.Write(req); werr <- err }()
	var got bytes.Buffer
	_, rerr := io.Copy(&got, c)
	if err := <-werr; rerr == nil && err != nil {
		rerr = err
	}
	return got.Bytes(), rerr
}

// direct returns the bytes the origin answers req with, without the proxy.
func direct(t *testing.T, o *origin, req []byte) []byte {
	t.Helper()
	got, err := exchange(t, o.addr(), req)
	if err != nil {
		t.Fatalf("direct request: %v", err)
	}
	return got
}

// waitStats polls p's stats until cond holds, failing the test after a
// generous limit (connections end asynchronously after a fault).
func waitStats(t *testing.T, p *Proxy, what string, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := p.Stats()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: want %s", s, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
