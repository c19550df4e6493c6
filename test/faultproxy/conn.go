package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// drainFor bounds how long a cut connection keeps reading (and discarding)
// what its peers still send, so that closing it sends a FIN rather than
// the RST the kernel sends for a socket closed with unread data.
const drainFor = 2 * time.Second

// conn is one proxied connection: the accepted client side, the dialled
// target side, and the plan it was given.
type conn struct {
	p       *Proxy
	planner *planner
	client  *net.TCPConn
	stop    chan struct{} // closed when the connection ends (wakes stalls)

	mu      sync.Mutex
	server  *net.TCPConn // nil until dialled
	ended   bool
	cutting bool
	plan    Plan     // of the current exchange
	armed   bool     // the plan's fault has yet to fire
	sent    [3]int64 // bytes forwarded in each Direction since the exchange began
	spoke   bool     // the target sent since the client last did
}

// run dials the target and forwards both directions until both end.
func (c *conn) run() {
	defer c.p.wg.Done()
	defer c.p.forget(c)
	nc, err := net.DialTimeout("tcp", c.p.opts.Target, c.p.opts.DialTimeout)
	if err != nil {
		c.p.c.dialErrors.Add(1)
		c.end(true)
		return
	}
	if !c.attach(nc.(*net.TCPConn)) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.pipe(Up, c.server, c.client) }()
	go func() { defer wg.Done(); c.pipe(Down, c.client, c.server) }()
	wg.Wait()
	c.end(false)
}

// attach records the dialled target side; it closes it and returns false
// when the connection ended meanwhile (Down or Close).
func (c *conn) attach(server *net.TCPConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		abort(server)
		return false
	}
	c.server = server
	return true
}

// end closes both sides, with an RST when reset is set, else cleanly. It
// reports whether this call ended the connection (false if it had ended).
func (c *conn) end(reset bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	c.ended = true
	close(c.stop)
	for _, s := range []*net.TCPConn{c.client, c.server} {
		if s == nil {
			continue
		}
		if reset {
			abort(s)
		} else {
			_ = s.Close()
		}
	}
	return true
}

// cut half-closes both sides (each peer reads EOF) and bounds the reads
// that drain what the peers still send, and any write still blocked.
func (c *conn) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.cutting {
		return
	}
	c.cutting = true
	deadline := time.Now().Add(drainFor)
	for _, s := range []*net.TCPConn{c.client, c.server} {
		_ = s.CloseWrite()
		_ = s.SetDeadline(deadline)
	}
}

func (c *conn) isCutting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cutting
}

// pipe forwards src to dst (direction dir), firing the plan's fault when
// it watches dir. At EOF it half-closes dst; on an error it resets both
// sides, passing the failure on as a reset would.
func (c *conn) pipe(dir Direction, dst, src *net.TCPConn) {
	if !c.forward(dir, dst, src) || c.isCutting() {
		drain(src)
	}
}

// forward copies until src ends, an error, or a fault ends forwarding. It
// returns true when src reached EOF and dst was half-closed.
func (c *conn) forward(dir Direction, dst, src *net.TCPConn) bool {
	buf := make([]byte, 32<<10)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			c.begin(dir)
		}
		for chunk := buf[:n]; len(chunk) > 0; {
			k, fire := c.allow(dir, len(chunk))
			if k > 0 {
				if _, err := dst.Write(chunk[:k]); err != nil {
					c.failed()
					return false
				}
				c.p.c.forwarded(dir, k)
				chunk = chunk[k:]
			}
			if fire && !c.fire() {
				return false
			}
		}
		if errors.Is(rerr, io.EOF) {
			_ = dst.CloseWrite()
			return true
		}
		if rerr != nil {
			c.failed()
			return false
		}
	}
}

// begin notes that bytes arrived in dir. Client bytes after target bytes
// begin a new exchange, which draws a new plan when Options.PerExchange is
// set.
func (c *conn) begin(dir Direction) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if dir == Down {
		c.spoke = true
		return
	}
	if !c.spoke {
		return
	}
	c.spoke = false
	c.p.c.exchanges.Add(1)
	if c.p.opts.PerExchange {
		c.setPlan(c.planner.draw(c.p.Rates(), c.p.opts.Direction, c.p.opts.MaxBytes))
	}
}

// setPlan makes p the current plan, counting bytes from now.
func (c *conn) setPlan(p Plan) {
	c.plan, c.armed, c.sent = p, p.Kind != None, [3]int64{}
}

// allow returns how many of n bytes in dir may be forwarded now (all of
// them, or those up to the plan's trigger) and whether the plan's fault
// fires once they are; it counts them as sent.
func (c *conn) allow(dir Direction, n int) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, fire := int64(n), false
	if c.armed && c.plan.Dir == dir && c.sent[dir]+k >= c.plan.After {
		k, fire = c.plan.After-c.sent[dir], true
		c.armed = false
	}
	c.sent[dir] += k
	return int(k), fire
}

// fire applies the plan's fault and reports whether forwarding goes on.
func (c *conn) fire() bool {
	c.mu.Lock()
	kind := c.plan.Kind
	c.mu.Unlock()
	c.p.c.fired(kind)
	switch kind {
	case Reset:
		c.end(true)
		return false
	case Cut:
		c.cut()
		return false
	case Stall:
		t := time.NewTimer(c.p.opts.StallFor)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.stop:
			return false
		}
		if c.p.opts.StallClose {
			c.cut()
			return false
		}
	}
	return true
}

// failed ends the connection after a read or write error that no fault of
// ours caused (a peer reset or vanished): the other peer is reset too. A
// connection being cut or already ended is left to that.
func (c *conn) failed() {
	if !c.isCutting() {
		c.end(true)
	}
}

// drain reads and discards src until it fails (EOF, the cut's deadline,
// or the connection's end).
func drain(src *net.TCPConn) {
	_, _ = io.Copy(io.Discard, src)
}
