package faultproxy

import "sync/atomic"

// Stats counts what a proxy did since it started. Fault counts are faults
// that fired, not faults planned: a connection that ends before its
// trigger byte count is not counted.
type Stats struct {
	// Conns is every accepted connection; Active those still open.
	Conns, Active int64
	// Resets, Stalls and Cuts are planned faults that fired.
	Resets, Stalls, Cuts int64
	// Dropped is open connections reset by Down; Refused is connections
	// accepted while down and reset at once.
	Dropped, Refused int64
	// DialErrors is connections reset because the target could not be
	// reached (not an injected fault: the target was down).
	DialErrors int64
	// Exchanges counts exchanges after a connection's first: the client
	// sending again after the target sent (see Options.PerExchange).
	Exchanges int64
	// BytesUp and BytesDown are bytes forwarded client → target and
	// target → client.
	BytesUp, BytesDown int64
}

// Faults is the number of faults injected: fired plans plus connections
// dropped or refused by an outage.
func (s Stats) Faults() int64 {
	return s.Resets + s.Stalls + s.Cuts + s.Dropped + s.Refused
}

// counters is the live, atomically updated side of Stats.
type counters struct {
	conns, active, resets, stalls, cuts atomic.Int64
	dropped, refused, dialErrors        atomic.Int64
	exchanges                           atomic.Int64
	bytesUp, bytesDown                  atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Conns: c.conns.Load(), Active: c.active.Load(),
		Resets: c.resets.Load(), Stalls: c.stalls.Load(), Cuts: c.cuts.Load(),
		Dropped: c.dropped.Load(), Refused: c.refused.Load(), DialErrors: c.dialErrors.Load(),
		Exchanges: c.exchanges.Load(),
		BytesUp:   c.bytesUp.Load(), BytesDown: c.bytesDown.Load(),
	}
}

// fired counts a plan's fault firing.
func (c *counters) fired(k Kind) {
	switch k {
	case Reset:
		c.resets.Add(1)
	case Stall:
		c.stalls.Add(1)
	case Cut:
		c.cuts.Add(1)
	}
}

// forwarded counts n bytes forwarded in dir.
func (c *counters) forwarded(dir Direction, n int) {
	if dir == Up {
		c.bytesUp.Add(int64(n))
	} else {
		c.bytesDown.Add(int64(n))
	}
}
