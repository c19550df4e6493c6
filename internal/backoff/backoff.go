// Package backoff paces loops that retry the master: the agent's lease and
// report loops and the fetch worker share it, so an outage looks the same
// in every log.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// First is the pause after the first failure in a row (before jitter).
const First = 100 * time.Millisecond

// Retries paces a loop that retries the master: the pause doubles with
// each failure in a row, from First up to a limit, and is drawn at random
// from the upper half of that (so agents that lost the master together do
// not come back together); only the 1st, 2nd, 4th, 8th… failure is worth a
// log line, so an outage is logged a few times, not once a second. The
// zero value is ready to use; a Retries is not safe for concurrent use.
type Retries struct {
	n       int           // failures in a row
	ceiling time.Duration // the current pause before jitter
}

// Failed counts a failure and returns the pause before the next try (at
// most limit) and whether to log this failure.
func (r *Retries) Failed(limit time.Duration) (wait time.Duration, log bool) {
	r.n++
	r.ceiling = min(max(r.ceiling*2, First), limit)
	half := r.ceiling / 2
	return half + time.Duration(rand.Int64N(int64(half)+1)), r.n&(r.n-1) == 0
}

// Recovered resets r after a success and reports whether it ended a run
// of failures (the moment to say the master is back).
func (r *Retries) Recovered() bool {
	was := r.n > 0
	r.n, r.ceiling = 0, 0
	return was
}

// Failures is how many failures in a row r has counted.
func (r *Retries) Failures() int { return r.n }

// Sleep waits d or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
