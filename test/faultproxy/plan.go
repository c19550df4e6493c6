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

// Plan is the fault chosen for one connection at accept (and, with
// Options.PerExchange, for each later exchange on it).
type Plan struct {
	// Conn is the connection's index in accept order, from 0; Exchange the
	// exchange's index on it, from 0.
	Conn, Exchange uint64
	Kind           Kind
	// Dir is the direction the fault watches (Up or Down; meaningless for
	// None).
	Dir Direction
	// After is the number of bytes forwarded in Dir (since the exchange
	// began) before the fault fires, in [0, Options.MaxBytes]. A connection
	// or exchange that carries fewer bytes in Dir never sees its fault.
	After int64
}

// planner draws the plans of one connection from its own stream of the
// seed: the same seed, connection index and rates give the same plans.
type planner struct {
	rng        *rand.Rand
	conn, next uint64
}

func newPlanner(seed, conn uint64) *planner {
	return &planner{rng: rand.New(rand.NewPCG(seed, conn)), conn: conn}
}

// draw returns the next plan. It makes the same draws whatever it
// chooses, so that the sequence depends on nothing else.
func (pl *planner) draw(r Rates, dir Direction, maxBytes int64) Plan {
	u, coin, after := pl.rng.Float64(), pl.rng.IntN(2), pl.rng.Int64N(maxBytes+1)
	p := Plan{Conn: pl.conn, Exchange: pl.next, Dir: dir, After: after}
	pl.next++
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

// planFor is connection i's first plan.
func planFor(seed, i uint64, r Rates, dir Direction, maxBytes int64) Plan {
	return newPlanner(seed, i).draw(r, dir, maxBytes)
}
