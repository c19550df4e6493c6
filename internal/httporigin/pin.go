package httporigin

import (
	"net/http"
	"sync"
)

// Pin is the Version that every request of one copy (or of one open file)
// is tied to: Condition adds it to each request, Check compares each
// response with it. It is safe for concurrent use.
type Pin struct {
	mu sync.Mutex
	v  Version
}

// NewPin pins v (the zero Version: nothing yet).
func NewPin(v Version) *Pin { return &Pin{v: v} }

// Condition adds the pinned validator to a request's headers; ranged
// requests also get If-Range (see Version.Condition).
func (p *Pin) Condition(h http.Header, ranged bool) {
	p.mu.Lock()
	v := p.v
	p.mu.Unlock()
	v.Condition(h, ranged)
}

// Check compares a response's validators with the pinned version (see
// Version.Check: the error wraps fs.ErrChanged) and, while none is named,
// pins the response's.
func (p *Pin) Check(h http.Header) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	got, err := p.v.Check(h)
	if err != nil {
		return err
	}
	if !p.v.Named() {
		p.v = got
	}
	return nil
}
