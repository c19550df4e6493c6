// Package faultproxy is a TCP proxy for tests that injects network faults
// between a client and a real server: connections reset (RST) or cleanly
// cut after a random number of bytes, stalls, and whole outages.
//
// Every accepted connection is forwarded to one target. At accept it is
// given a Plan drawn from the seed and its index, so a seed replays the
// same sequence of faults. Rates can change at run time, Down/Up simulate
// an outage, and Stats counts the faults that really fired so tests can
// assert on them.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a running fault-injecting TCP proxy. Its methods are safe for
// concurrent use.
type Proxy struct {
	opts Options
	ln   net.Listener
	c    counters
	wg   sync.WaitGroup // the accept loop and every connection

	rates atomic.Pointer[Rates]

	mu     sync.Mutex
	down   bool
	closed bool
	next   uint64 // index of the next accepted connection
	conns  map[*conn]struct{}
}

// New listens on opts.Listen and serves until Close. It fails on invalid
// options or when it cannot listen; the target is dialled per connection,
// so it need not be up yet.
func New(opts Options) (*Proxy, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("start fault proxy: %w", err)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("start fault proxy: %w", err)
	}
	p := &Proxy{opts: o, ln: ln, conns: map[*conn]struct{}{}}
	p.rates.Store(&o.Rates)
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the address the proxy listens on ("127.0.0.1:PORT").
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address connections are forwarded to.
func (p *Proxy) Target() string { return p.opts.Target }

// SetRates changes the fault probabilities of connections accepted (and,
// with Options.PerExchange, exchanges begun) from now on; plans already
// drawn are kept.
func (p *Proxy) SetRates(r Rates) error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("set rates: %w", err)
	}
	p.rates.Store(&r)
	return nil
}

// Rates returns the fault probabilities in force.
func (p *Proxy) Rates() Rates { return *p.rates.Load() }

// Down starts an outage: every open connection is reset at once, and
// connections accepted until Up are reset as soon as they are accepted.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		if c.end(true) {
			p.c.dropped.Add(1)
		}
	}
}

// Up ends an outage: new connections are forwarded again.
func (p *Proxy) Up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// Stats returns the counters so far.
func (p *Proxy) Stats() Stats { return p.c.snapshot() }

// Close stops listening, closes every open connection and returns once
// every goroutine of the proxy has ended. It is safe to call twice.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		c.end(false)
	}
	p.mu.Unlock()
	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("close fault proxy: %w", err)
	}
	return nil
}

// acceptLoop accepts connections until the listener closes.
func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Transient (e.g. out of file descriptors): back off briefly.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.admit(nc.(*net.TCPConn))
	}
}

// admit plans an accepted connection and starts forwarding it, or resets
// it when the proxy is down or closed.
func (p *Proxy) admit(client *net.TCPConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.c.conns.Add(1)
	pl := newPlanner(p.opts.Seed, p.next)
	plan := pl.draw(p.Rates(), p.opts.Direction, p.opts.MaxBytes)
	p.next++
	if p.down || p.closed {
		if !p.closed {
			p.c.refused.Add(1)
		}
		abort(client)
		return
	}
	c := &conn{p: p, planner: pl, client: client, stop: make(chan struct{})}
	c.setPlan(plan)
	p.conns[c] = struct{}{}
	p.c.active.Add(1)
	p.wg.Add(1)
	go c.run()
}

// forget removes an ended connection.
func (p *Proxy) forget(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	p.c.active.Add(-1)
}

// abort closes a TCP connection with SO_LINGER 0: the kernel sends an RST
// and the peer's next read or write fails with ECONNRESET.
func abort(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}
