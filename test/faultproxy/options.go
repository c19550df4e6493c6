package faultproxy

import (
	"fmt"
	"time"
)

// Options configure a Proxy. Only Target is required.
type Options struct {
	// Target is the host:port every accepted connection is forwarded to.
	Target string
	// Listen is the address to listen on; default "127.0.0.1:0".
	Listen string
	// Seed makes the fault sequence reproducible: connection i's plan is a
	// function of Seed, i and the rates in force when it is accepted.
	Seed uint64
	// Rates are the initial fault probabilities (SetRates changes them).
	Rates Rates
	// Direction restricts faults to Up or Down; Either (the zero value)
	// draws one per connection.
	Direction Direction
	// MaxBytes bounds the trigger byte count of a fault; default 256 KiB.
	MaxBytes int64
	// StallFor is how long a stall holds its direction; default 2s.
	StallFor time.Duration
	// StallClose closes both sides cleanly at the end of a stall instead of
	// resuming.
	StallClose bool
	// PerExchange draws a new plan for every exchange on a connection, not
	// only at accept. An exchange begins when the client sends after the
	// target has sent (a new request on a kept-alive HTTP connection), and
	// its plan counts bytes from there. Keep-alive clients open few
	// connections; with PerExchange the rates apply per request instead.
	PerExchange bool
	// DialTimeout bounds the connection to Target; default 5s.
	DialTimeout time.Duration
}

// withDefaults returns o with defaults filled in, or an error for options
// that cannot work.
func (o Options) withDefaults() (Options, error) {
	if o.Target == "" {
		return o, fmt.Errorf("check options: no target")
	}
	if err := o.Rates.validate(); err != nil {
		return o, err
	}
	if o.Direction < Either || o.Direction > Down {
		return o, fmt.Errorf("check options: unknown direction %d", o.Direction)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 10
	}
	if o.StallFor <= 0 {
		o.StallFor = 2 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	return o, nil
}

// ParseDirection parses "either", "up" or "down".
func ParseDirection(s string) (Direction, error) {
	for _, d := range []Direction{Either, Up, Down} {
		if s == d.String() {
			return d, nil
		}
	}
	return Either, fmt.Errorf("parse direction %q: want either, up or down", s)
}
