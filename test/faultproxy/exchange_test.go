package faultproxy

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// getMany sends n sequential GETs of a 64 KiB body through p with one
// keep-alive client and returns how many failed; a body that arrives must
// be intact.
func getMany(t *testing.T, p *Proxy, n int) int {
	t.Helper()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	want := payload(64<<10, 3)
	failed := 0
	for i := 0; i < n; i++ {
		resp, err := client.Get("http://" + p.Addr() + "/blob?n=65536&seed=3")
		if err != nil {
			failed++
			continue
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			failed++
		case !bytes.Equal(got, want):
			t.Fatalf("request %d: a complete answer with wrong bytes", i)
		}
	}
	return failed
}

// TestProxy_PerExchange: a keep-alive client sends every request on one
// connection, so faults drawn at accept only hit it once at most; with
// PerExchange every request draws its own, and the connection is replaced
// after each fault.
func TestProxy_PerExchange(t *testing.T) {
	o := startOrigin(t)
	opts := Options{Target: o.addr(), Seed: 3, Rates: Rates{Reset: 0.3}, Direction: Down, MaxBytes: 4 << 10}
	const n = 40

	p := startProxy(t, opts)
	getMany(t, p, n)
	if s := p.Stats(); s.Resets > 1 || s.Exchanges < n-2 {
		t.Fatalf("per connection: stats %+v, want at most one reset over %d exchanges", s, n)
	}

	opts.PerExchange = true
	p = startProxy(t, opts)
	failed := getMany(t, p, n)
	s := p.Stats()
	// Each reset fails the request under way (the transport may retry a
	// request that got nothing back, so failures can be fewer).
	if s.Resets < 4 || s.Conns < s.Resets || failed > int(s.Resets) {
		t.Fatalf("per exchange: stats %+v with %d failed requests, want several resets, a new connection after each", s, failed)
	}
}
