package faultproxy

import (
	"fmt"
	"math/rand/v2"
)

// Kind is the fault a connection is given at accept.
type Kind int

const (
	// None forwards the connection untouched.
	None Kind = iota
	// Reset aborts both sides with an RST (SO_LINGER 0) once the trigger
	// byte count has crossed in the chosen direction: peers see
	// ECONNRESET.
	Reset
	// Stall stops forwarding in the chosen direction for Options.StallFor
	// once the trigger byte count has crossed, then continues (or closes
	// both sides cleanly when Options.StallClose is set).
	Stall
	// Cut forwards exactly the trigger byte count in the chosen direction,
	// then closes both sides cleanly (FIN): the reader sees those bytes
	// and then EOF.
	Cut
)

func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Reset:
		return "reset"
	case Stall:
		return "stall"
	case Cut:
		return "cut"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Direction is the way bytes flow through a connection.
type Direction int

const (
	// Either lets each faulty connection draw its direction at random
	// (Options.Direction only; a Plan always holds Up or Down).
	Either Direction = iota
	// Up is client → target (requests, upload bodies).
	Up
	// Down is target → client (responses, download bodies).
	Down
)

func (d Direction) String() string {
	switch d {
	case Either:
		return "either"
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Rates are the probabilities (0–1, summing to at most 1) that an accepted
// connection is given each fault.
type Rates struct {
	Reset, Stall, Cut float64
}

// Total is the probability that a connection is given any fault.
func (r Rates) Total() float64 { return r.Reset + r.Stall + r.Cut }

// validate reports rates that are negative or sum past 1.
func (r Rates) validate() error {
	if r.Reset < 0 || r.Stall < 0 || r.Cut < 0 || r.Total() > 1+1e-9 {
		return fmt.Errorf("validate rates %+v: each must be ≥ 0 and their sum ≤ 1", r)
	}
	return nil
}

// Plan is the fault chosen for one connection at accept.
type Plan struct {
	// Conn is the connection's index in accept order, from 0.
	Conn uint64
	Kind Kind
	// Dir is the direction the fault watches (Up or Down; meaningless for
	// None).
	Dir Direction
	// After is the number of bytes forwarded in Dir before the fault
	// fires, in [0, Options.MaxBytes]. A connection that carries fewer
	// bytes in Dir never sees its fault.
	After int64
}

// planFor draws connection i's plan. It depends only on seed, i, rates,
// dir and maxBytes, and makes the same draws whatever it chooses, so a
// seed replays the same sequence of plans.
func planFor(seed, i uint64, r Rates, dir Direction, maxBytes int64) Plan {
	rng := rand.New(rand.NewPCG(seed, i))
	u, coin, after := rng.Float64(), rng.IntN(2), rng.Int64N(maxBytes+1)
	p := Plan{Conn: i, Dir: dir, After: after}
	if p.Dir == Either {
		p.Dir = Up + Direction(coin)
	}
	switch {
	case u < r.Reset:
		p.Kind = Reset
	case u < r.Reset+r.Stall:
		p.Kind = Stall
	case u < r.Total():
		p.Kind = Cut
	default:
		p.Kind = None
	}
	return p
}
