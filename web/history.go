package web

import (
	"sync"
	"time"

	"github.com/ferry-project/ferry/agent"
)

// point is one sample of every job together.
type point struct {
	T           time.Time
	RateBytes   float64
	RateObjects float64
	Failed      int64
}

// pointOf sums the jobs at t.
func pointOf(t time.Time, jobs []agent.JobView) point {
	p := point{T: t}
	for _, j := range jobs {
		p.RateBytes += j.RateBytes
		p.RateObjects += j.RateObjects
		p.Failed += j.Failed
	}
	return p
}

// history keeps the samples of the last span, oldest first.
type history struct {
	span time.Duration
	mu   sync.Mutex
	pts  []point
}

func newHistory(span, every time.Duration) *history {
	return &history{span: span, pts: make([]point, 0, int(span/every)+1)}
}

// add appends p and drops the samples older than the span.
func (h *history) add(p point) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pts = append(h.pts, p)
	cut := 0
	for cut < len(h.pts) && p.T.Sub(h.pts[cut].T) > h.span {
		cut++
	}
	h.pts = append(h.pts[:0], h.pts[cut:]...)
}

// points copies the samples.
func (h *history) points() []point {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]point(nil), h.pts...)
}

// failedSince is how many more objects failed now (nowFailed) than at
// the oldest sample since t (a retry that lowers the count gives 0).
func (h *history) failedSince(t time.Time, nowFailed int64) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.pts {
		if !p.T.Before(t) {
			return max(0, nowFailed-p.Failed)
		}
	}
	return 0
}

// chartPoint is a sample as the page's chart draws it: Unix seconds and
// bytes per second.
type chartPoint struct {
	T int64   `json:"t"`
	V float64 `json:"v"`
}

func chartOf(pts []point) []chartPoint {
	out := make([]chartPoint, 0, len(pts))
	for _, p := range pts {
		out = append(out, chartPoint{T: p.T.Unix(), V: p.RateBytes})
	}
	return out
}
