package us3emu

import (
	"maps"
	"net/http"
	"sync"
)

// counters is the mutable side of Stats.
type counters struct {
	mu sync.Mutex
	s  Stats
}

func newCounters() *counters {
	c := &counters{}
	c.reset()
	return c
}

func (c *counters) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = Stats{Requests: map[string]int64{}, Succeeded: map[string]int64{}}
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Requests = maps.Clone(c.s.Requests)
	s.Succeeded = maps.Clone(c.s.Succeeded)
	s.FaultsInjected = s.InjectedErrors + s.InjectedDrops
	return s
}

func (c *counters) add(fn func(s *Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.s)
}

func (c *counters) request(op string) { c.add(func(s *Stats) { s.Requests[op]++ }) }

// done records a request's final status.
func (c *counters) done(op string, status int) {
	c.add(func(s *Stats) {
		switch {
		case status >= 200 && status < 300:
			s.Succeeded[op]++
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			s.AuthFailures++
		}
	})
}

func (c *counters) bytesIn(n int64)  { c.add(func(s *Stats) { s.BytesIn += n }) }
func (c *counters) bytesOut(n int64) { c.add(func(s *Stats) { s.BytesOut += n }) }
func (c *counters) injectedError()   { c.add(func(s *Stats) { s.InjectedErrors++ }) }
func (c *counters) injectedDrop()    { c.add(func(s *Stats) { s.InjectedDrops++ }) }
