package fetch

import (
	"container/heap"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ReplayWindow is how far the Date of a request for a job that rejects
// replays may be from the master's clock, either way.
const ReplayWindow = 15 * time.Minute

// DefaultMaxReplays is how many signatures the handler remembers at most
// (about 64 MiB when full: a sustained thousand signed POSTs a second for
// jobs that reject replays).
const DefaultMaxReplays = 1 << 20

// Errors of replayCache.Remember.
var (
	errReplayed    = errors.New("signature already used")
	errReplaysFull = errors.New("too many signatures to remember")
)

// checkFresh applies a job's RejectReplays to a request signed with one of
// its keys (zero refusal when the job does not reject replays or the
// request passes): the Date header must be an HTTP date within
// ReplayWindow of now; a POST (once) must also carry Content-MD5, so that
// its signature covers the body, and a signature that was not used before.
// A signature is remembered until its Date leaves the window, after which
// the Date check refuses it anyway.
func (h *handler) checkFresh(r *http.Request, job Job, pub, sig string, once bool) refusal {
	if !job.RejectReplays {
		return refusal{}
	}
	date := r.Header.Get("Date")
	if date == "" {
		return refusal{http.StatusForbidden, RetStaleDate, "this job rejects replays: a Date header is required"}
	}
	d, err := http.ParseTime(date)
	if err != nil {
		return refusal{http.StatusForbidden, RetStaleDate, fmt.Sprintf("this job rejects replays: Date %q is not an HTTP date", date)}
	}
	now := h.opts.Now()
	if d.Before(now.Add(-ReplayWindow)) || d.After(now.Add(ReplayWindow)) {
		return refusal{http.StatusForbidden, RetStaleDate,
			fmt.Sprintf("this job rejects replays: Date %q is more than %v from the master's clock", date, ReplayWindow)}
	}
	if !once {
		return refusal{}
	}
	if r.Header.Get("Content-MD5") == "" {
		return refusal{http.StatusBadRequest, RetMissingField, "this job rejects replays: a Content-MD5 header is required"}
	}
	key := sha256.Sum256([]byte(r.Method + "\x00" + pub + "\x00" + sig))
	switch err := h.replays.remember([16]byte(key[:16]), d.Add(ReplayWindow), now); {
	case errors.Is(err, errReplayed):
		return refusal{http.StatusForbidden, RetReplayed, "this job rejects replays: the signature was already used (sign every request anew)"}
	case err != nil:
		return refusal{http.StatusTooManyRequests, RetQueueFull, "too many signed requests in the replay window; retry later"}
	}
	return refusal{}
}

// replayCache remembers request signatures until they expire, at most max
// of them; it is safe for concurrent use. Times are unix nanoseconds.
type replayCache struct {
	mu   sync.Mutex
	max  int
	seen map[[16]byte]int64 // key → until
	exp  expiries
}

// newReplayCache returns an empty cache of at most max entries.
func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: map[[16]byte]int64{}}
}

// remember records key until the instant until. It returns errReplayed
// when key is already recorded and unexpired at now, and errReplaysFull
// when max unexpired keys are: refusing is the only safe answer then, since
// forgetting one early would let it be replayed.
func (c *replayCache) remember(key [16]byte, until, now time.Time) error {
	u, n := until.UnixNano(), now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.exp) > 0 && c.exp[0].until < n {
		e := heap.Pop(&c.exp).(expiry)
		if c.seen[e.key] == e.until {
			delete(c.seen, e.key)
		}
	}
	if prev, ok := c.seen[key]; ok && prev >= n {
		return errReplayed
	}
	if len(c.seen) >= c.max {
		return errReplaysFull
	}
	c.seen[key] = u
	heap.Push(&c.exp, expiry{key: key, until: u})
	return nil
}

// expiry is one remembered key and when it may be forgotten.
type expiry struct {
	key   [16]byte
	until int64
}

// expiries is a min-heap of expiries by until (container/heap).
type expiries []expiry

func (e expiries) Len() int           { return len(e) }
func (e expiries) Less(i, j int) bool { return e[i].until < e[j].until }
func (e expiries) Swap(i, j int)      { e[i], e[j] = e[j], e[i] }
func (e *expiries) Push(x any)        { *e = append(*e, x.(expiry)) }
func (e *expiries) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}
