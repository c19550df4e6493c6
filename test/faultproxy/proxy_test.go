package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestProxy_Forward: without faults, large bodies cross the proxy
// unchanged in both directions, over the real HTTP client, and the byte
// counters see them.
func TestProxy_Forward(t *testing.T) {
	o := startOrigin(t)
	p := startProxy(t, Options{Target: o.addr(), Seed: 1})
	const size = 8 << 20
	client := &http.Client{Timeout: time.Minute}

	resp, err := client.Get("http://" + p.Addr() + "/blob?n=8388608&seed=5")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, payload(size, 5)) {
		t.Fatalf("download through the proxy: %d bytes, err %v; want the %d bytes sent", len(got), err, size)
	}

	up := payload(size, 6)
	req, _ := http.NewRequest(http.MethodPut, "http://"+p.Addr()+"/echo", bytes.NewReader(up))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, up) {
		t.Fatalf("upload echoed through the proxy: %d bytes, err %v; want the %d bytes sent", len(got), err, size)
	}

	s := p.Stats()
	if s.BytesUp < size || s.BytesDown < 2*size {
		t.Fatalf("stats count %d bytes up and %d down, want at least %d and %d", s.BytesUp, s.BytesDown, size, 2*size)
	}
	if s.Faults() != 0 || s.Conns == 0 {
		t.Fatalf("stats %+v: want connections and no fault", s)
	}
}

// TestProxy_Reset: with every connection given a reset, the client sees
// ECONNRESET, whichever direction the reset watches.
func TestProxy_Reset(t *testing.T) {
	o := startOrigin(t)
	client := &http.Client{Timeout: time.Minute}

	t.Run("down", func(t *testing.T) {
		p := startProxy(t, Options{Target: o.addr(), Rates: Rates{Reset: 1}, Direction: Down, MaxBytes: 16 << 10})
		resp, err := client.Get("http://" + p.Addr() + "/blob?n=1048576&seed=1")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("GET through a resetting proxy: %v, want ECONNRESET", err)
		}
		if s := p.Stats(); s.Resets != 1 {
			t.Fatalf("stats %+v: want exactly one reset", s)
		}
	})
	t.Run("up", func(t *testing.T) {
		p := startProxy(t, Options{Target: o.addr(), Rates: Rates{Reset: 1}, Direction: Up, MaxBytes: 16 << 10})
		req, _ := putRequest(payload(1<<20, 2))
		_, err := exchange(t, p.Addr(), req)
		// The reset reaches the client while it still writes (EPIPE after
		// the RST) or while it reads.
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("PUT through a resetting proxy: %v, want ECONNRESET", err)
		}
		if s := p.Stats(); s.Resets != 1 {
			t.Fatalf("stats %+v: want exactly one reset", s)
		}
	})
}

// TestProxy_Cut: a cut forwards exactly the planned number of bytes and
// then ends the stream cleanly: the client reads that prefix and EOF; cut
// upstream, the server reads that prefix of the request and EOF.
func TestProxy_Cut(t *testing.T) {
	o := startOrigin(t)
	const maxBytes = 100_000

	t.Run("down", func(t *testing.T) {
		opts := Options{Target: o.addr(), Seed: 7, Rates: Rates{Cut: 1}, Direction: Down, MaxBytes: maxBytes}
		p := startProxy(t, opts)
		req := getRequest(1<<20, 3)
		full := direct(t, o, req)
		n := planFor(opts.Seed, 0, opts.Rates, Down, maxBytes).After
		got, err := exchange(t, p.Addr(), req)
		if err != nil {
			t.Fatalf("read through a cutting proxy: %v, want a clean EOF", err)
		}
		if int64(len(got)) != n || !bytes.Equal(got, full[:n]) {
			t.Fatalf("read %d bytes through the cut, want exactly the first %d of the %d-byte answer", len(got), n, len(full))
		}
		if s := p.Stats(); s.Cuts != 1 || s.BytesDown != n {
			t.Fatalf("stats %+v: want one cut and %d bytes down", s, n)
		}
	})
	t.Run("up", func(t *testing.T) {
		req, head := putRequest(payload(1<<20, 4))
		opts := Options{Target: o.addr(), Rates: Rates{Cut: 1}, Direction: Up, MaxBytes: maxBytes}
		// The first seed whose cut falls inside the body (past the header).
		for planFor(opts.Seed, 0, opts.Rates, Up, maxBytes).After <= int64(head) {
			opts.Seed++
		}
		n := planFor(opts.Seed, 0, opts.Rates, Up, maxBytes).After
		p := startProxy(t, opts)
		got, err := exchange(t, p.Addr(), req)
		if err != nil || len(got) != 0 {
			t.Fatalf("client of a cut upload: %d bytes, %v; want nothing and a clean EOF", len(got), err)
		}
		select {
		case b := <-o.bodies:
			if b.n != n-int64(head) || !errors.Is(b.err, io.ErrUnexpectedEOF) {
				t.Fatalf("server read %d body bytes (%v), want exactly %d then an early EOF", b.n, b.err, n-int64(head))
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the server never saw the cut body")
		}
		if s := p.Stats(); s.Cuts != 1 || s.BytesUp != n {
			t.Fatalf("stats %+v: want one cut and %d bytes up", s, n)
		}
	})
}

// TestProxy_Stall: a stall delays the stream by at least StallFor, then
// delivers every byte; with StallClose it ends the stream instead.
func TestProxy_Stall(t *testing.T) {
	o := startOrigin(t)
	const stall = 300 * time.Millisecond
	req := getRequest(1<<20, 8)
	full := direct(t, o, req)

	for _, close := range []bool{false, true} {
		p := startProxy(t, Options{Target: o.addr(), Rates: Rates{Stall: 1}, Direction: Down,
			MaxBytes: 64 << 10, StallFor: stall, StallClose: close})
		n := planFor(0, 0, Rates{Stall: 1}, Down, 64<<10).After
		start := time.Now()
		got, err := exchange(t, p.Addr(), req)
		took := time.Since(start)
		if took < stall {
			t.Fatalf("stall close=%v: the answer took %v, less than the %v stall", close, took, stall)
		}
		if err != nil {
			t.Fatalf("stall close=%v: %v", close, err)
		}
		want := full
		if close {
			want = full[:n]
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("stall close=%v: got %d bytes, want %d", close, len(got), len(want))
		}
		if s := p.Stats(); s.Stalls != 1 {
			t.Fatalf("stall close=%v: stats %+v, want one stall", close, s)
		}
	}
}

// TestProxy_DownUp: Down resets the open connections and every new one
// until Up; after Up requests pass again.
func TestProxy_DownUp(t *testing.T) {
	o := startOrigin(t)
	p := startProxy(t, Options{Target: o.addr(), StallFor: time.Minute})
	client := &http.Client{Timeout: time.Minute}
	get := func() error {
		resp, err := client.Get("http://" + p.Addr() + "/blob?n=1000&seed=1")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && !bytes.Equal(b, payload(1000, 1)) {
			err = errors.New("wrong bytes")
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("before Down: %v", err)
	}
	if s := p.Stats(); s.Active != 1 {
		t.Fatalf("stats %+v: want the client's idle keep-alive connection open", s)
	}

	p.Down()
	// The idle connection was reset: the transport notices it and dials
	// a new one, which is reset at once.
	if err := get(); err == nil {
		t.Fatal("a request during the outage succeeded")
	}
	_, err := exchange(t, p.Addr(), getRequest(10, 1))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("a new connection during the outage: %v, want ECONNRESET", err)
	}
	waitStats(t, p, "1 dropped, at least 2 refused, none active", func(s Stats) bool {
		return s.Dropped == 1 && s.Refused >= 2 && s.Active == 0
	})

	p.Up()
	if err := get(); err != nil {
		t.Fatalf("after Up: %v", err)
	}
}
