package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// outcome is what a client saw of one exchange.
type outcome struct {
	bytes int
	end   string // "eof", "reset" or the error
}

func classify(got []byte, err error) outcome {
	switch {
	case err == nil:
		return outcome{len(got), "eof"}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return outcome{len(got), "reset"}
	}
	return outcome{len(got), err.Error()}
}

// run sends n sequential echo exchanges of a 48 KiB body through a new
// proxy with seed, each on its own connection, and returns what the client
// saw of each and the proxy's stats.
func runSeed(t *testing.T, o *origin, seed uint64, n int) ([]outcome, Stats) {
	t.Helper()
	p := startProxy(t, Options{Target: o.addr(), Seed: seed, Rates: Rates{Reset: 0.25, Stall: 0.25, Cut: 0.25},
		MaxBytes: 32 << 10, StallFor: 20 * time.Millisecond, StallClose: true})
	req, _ := putRequest(payload(48<<10, seed))
	var out []outcome
	for i := 0; i < n; i++ {
		out = append(out, classify(exchange(t, p.Addr(), req)))
		// Drain the server's record of the request, if it got that far.
		select {
		case <-o.bodies:
		case <-time.After(50 * time.Millisecond):
		}
	}
	s := waitStats(t, p, "every connection ended", func(s Stats) bool { return s.Active == 0 })
	s.BytesUp, s.BytesDown = 0, 0 // what the server read before a fault varies
	return out, s
}

// TestProxy_Seed: the same seed replays the same faults, in the same
// order, at the same byte counts; another seed gives another sequence.
func TestProxy_Seed(t *testing.T) {
	o := startOrigin(t)
	const n = 24
	a, sa := runSeed(t, o, 42, n)
	b, sb := runSeed(t, o, 42, n)
	c, _ := runSeed(t, o, 43, n)
	if fmt.Sprint(a) != fmt.Sprint(b) || sa != sb {
		t.Fatalf("seed 42 twice gave different runs:\n%v %+v\n%v %+v", a, sa, b, sb)
	}
	if sa.Resets == 0 || sa.Stalls == 0 || sa.Cuts == 0 {
		t.Fatalf("stats %+v: want every kind of fault in %d connections", sa, n)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatalf("seeds 42 and 43 gave the same run: %v", a)
	}
}

// TestProxy_Close: Close ends stalled and idle connections and returns
// with every goroutine of the proxy gone.
func TestProxy_Close(t *testing.T) {
	o := startOrigin(t)
	before := runtime.NumGoroutine()
	p, err := New(Options{Target: o.addr(), Rates: Rates{Stall: 1}, Direction: Down, MaxBytes: 1, StallFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var clients []net.Conn
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		if i%2 == 0 { // stalled mid-answer; the others stay idle
			if _, err := c.Write(getRequest(1000, 1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitStats(t, p, "two stalls", func(s Stats) bool { return s.Stalls == 2 && s.Active == 4 })

	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with stalled connections open")
	}
	for _, c := range clients {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("client of a closed proxy: %v, want the connection closed", err)
		}
		c.Close()
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("the proxy still accepts after Close")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The origin's connection goroutines end once it sees the proxy's
	// closes; then no goroutine is left beyond those before New.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the proxy, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
