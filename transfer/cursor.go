package transfer

import "sync"

// cursor tracks the low-water mark of finished objects in walk order: the
// largest path such that it and everything walked before it are finished.
// An agent reports it so that a restarted walk can begin after it.
type cursor struct {
	mu    sync.Mutex
	base  int64 // sequence number of q[0]
	q     []slot
	value string
}

type slot struct {
	path string
	done bool
}

// add registers the next walked path and returns its sequence number.
func (c *cursor) add(path string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.q = append(c.q, slot{path: path})
	return c.base + int64(len(c.q)) - 1
}

// finish marks seq finished and advances the mark.
func (c *cursor) finish(seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.q[seq-c.base].done = true
	n := 0
	for n < len(c.q) && c.q[n].done {
		c.value = c.q[n].path
		n++
	}
	if n > 0 {
		c.q = c.q[n:]
		c.base += int64(n)
	}
}

func (c *cursor) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value
}
