package fetch

import (
	"context"
	"hash"
	"sync"

	"github.com/ferry-project/ferry/fs"
)

// group runs goroutines and keeps the first error; that error cancels the
// group's context so the others stop.
type group struct {
	wg     sync.WaitGroup
	once   sync.Once
	err    error
	cancel context.CancelFunc
}

// newGroup returns a group and the context its goroutines must use.
func newGroup(ctx context.Context) (*group, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	return &group{cancel: cancel}, ctx
}

// spawn runs fn in a goroutine.
func (g *group) spawn(fn func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := fn(); err != nil {
			g.once.Do(func() { g.err = err; g.cancel() })
		}
	}()
}

// wait waits for every goroutine and returns the first error.
func (g *group) wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}

// bufPool hands out at most n buffers of size bytes, allocated on first
// use: the memory bound of one task.
type bufPool struct {
	ch   chan []byte
	size int64
}

func newBufPool(n int, size int64) *bufPool {
	p := &bufPool{ch: make(chan []byte, n), size: size}
	for range n {
		p.ch <- nil
	}
	return p
}

// get waits for a free buffer (full length) or the end of ctx.
func (p *bufPool) get(ctx context.Context) ([]byte, error) {
	select {
	case b := <-p.ch:
		if b == nil {
			b = make([]byte, p.size)
		}
		return b[:p.size], nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put returns a buffer taken with get.
func (p *bufPool) put(b []byte) { p.ch <- b[:cap(b)] }

// sequencer feeds the whole-object hash with parts in order as they
// complete, and returns a part's buffer to the pool once it is both hashed
// and uploaded.
type sequencer struct {
	pool *bufPool
	mu   sync.Mutex
	h    hash.Hash
	next int
	// slots holds parts downloaded but not yet hashed, or hashed but not
	// yet uploaded.
	slots map[int]*slot
}

type slot struct {
	buf               []byte
	ready, hashed, up bool
}

func newSequencer(pool *bufPool) *sequencer {
	return &sequencer{pool: pool, h: newSHA1(), slots: map[int]*slot{}}
}

func (s *sequencer) slot(n int) *slot {
	sl, ok := s.slots[n]
	if !ok {
		sl = &slot{}
		s.slots[n] = sl
	}
	return sl
}

// downloaded records part n's bytes and hashes every part now in order.
func (s *sequencer) downloaded(n int, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slot(n)
	sl.buf, sl.ready = b, true
	for {
		sl, ok := s.slots[s.next]
		if !ok || !sl.ready {
			return
		}
		s.h.Write(sl.buf)
		sl.hashed = true
		s.release(s.next, sl)
		s.next++
	}
}

// uploaded records that part n is stored.
func (s *sequencer) uploaded(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slot(n)
	sl.up = true
	s.release(n, sl)
}

// release returns a part's buffer once it is hashed and uploaded.
func (s *sequencer) release(n int, sl *slot) {
	if sl.hashed && sl.up {
		s.pool.put(sl.buf)
		delete(s.slots, n)
	}
}

// sum returns the whole-object hash once every part was hashed.
func (s *sequencer) sum() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return hexSum(s.h)
}

// partSum hashes one part for a Checksummer sink; nil for other sinks.
func partSum(sink fs.Sink, b []byte) []byte {
	cs, ok := sink.(fs.Checksummer)
	if !ok {
		return nil
	}
	return fs.SumPart(cs, b)
}
