package mount

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// requestHook is a slog.Handler for go-fuse's request log (Options.Debug):
// it calls fn with the opcode and the line of every request go-fuse reads
// ("rx 12: LOOKUP n1 [\"f\"] 2b p42"), synchronously, after reading it and
// before handling it. Every other record is dropped. fn runs under
// log.Logger's lock, so it must not block: every other request would wait
// for it before being handled.
type requestHook func(op, line string)

var _ slog.Handler = requestHook(nil)

func (h requestHook) Enabled(context.Context, slog.Level) bool { return true }

func (h requestHook) Handle(_ context.Context, r slog.Record) error {
	rest, ok := strings.CutPrefix(r.Message, "rx ")
	if !ok {
		return nil
	}
	_, rest, ok = strings.Cut(rest, ": ")
	if !ok {
		return nil
	}
	op, _, _ := strings.Cut(rest, " ")
	h(op, r.Message)
	return nil
}

func (h requestHook) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h requestHook) WithGroup(string) slog.Handler      { return h }

// opCounter counts the FUSE requests of a mount by opcode.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// options returns o logging every request into c.
func (c *opCounter) options(o Options) Options {
	o.Debug = true
	o.Logger = slog.New(requestHook(func(op, _ string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.n == nil {
			c.n = make(map[string]int)
		}
		c.n[op]++
	}))
	return o
}

// take returns the counts so far and starts again from zero.
func (c *opCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	if n == nil {
		n = map[string]int{}
	}
	return n
}
