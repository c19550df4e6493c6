// Package stall abandons HTTP requests whose bodies stop moving. A server
// that accepts a connection and then sends or takes no more bytes would
// otherwise hold the caller — and a worker of a migration with it —
// forever; timeouts on the whole request cannot tell a stalled 5 GiB part
// from a slow healthy one, but "no byte moved for two minutes" can.
package stall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// DefaultTimeout is how long a body may move no byte before its request is
// abandoned.
const DefaultTimeout = 2 * time.Minute

// ErrStalled is the cancellation cause of a request a Guard abandoned.
var ErrStalled = errors.New("request stalled")

// Guard watches one request. Its context is cancelled (cause ErrStalled)
// once the timeout passes without progress; every byte read through
// Reader or Body counts as progress.
type Guard struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
}

// Start returns a Guard whose Context derives from ctx. The clock starts
// now: sending the request, waiting for its answer and reading its body
// must each move a byte within timeout (DefaultTimeout when <= 0). Stop
// (or closing Body's result) releases it.
func Start(ctx context.Context, timeout time.Duration) *Guard {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	g := &Guard{timeout: timeout}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	g.timer = time.AfterFunc(timeout, func() { g.cancel(ErrStalled) })
	return g
}

// Context is the request's context.
func (g *Guard) Context() context.Context { return g.ctx }

// Stop ends the watch and cancels the context. Calling it again is fine.
func (g *Guard) Stop() {
	g.timer.Stop()
	g.cancel(context.Canceled)
}

// Err returns err, saying so when the Guard abandoned the request.
func (g *Guard) Err(err error) error {
	if err != nil && errors.Is(context.Cause(g.ctx), ErrStalled) {
		return fmt.Errorf("%w: no byte moved for %s: %w", ErrStalled, g.timeout, err)
	}
	return err
}

func (g *Guard) progress(n int) {
	if n > 0 {
		g.timer.Reset(g.timeout)
	}
}

// Reader wraps a request body: each byte the transport takes counts as
// progress.
func (g *Guard) Reader(r io.Reader) io.Reader { return &reader{r: r, g: g} }

// Body wraps a response body: each byte read counts as progress, read
// errors say when the Guard abandoned the request, and Close stops the
// Guard.
func (g *Guard) Body(rc io.ReadCloser) io.ReadCloser {
	return &body{reader: reader{r: rc, g: g}, c: rc}
}

type reader struct {
	r io.Reader
	g *Guard
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.g.progress(n)
	if err != nil && err != io.EOF {
		err = r.g.Err(err)
	}
	return n, err
}

type body struct {
	reader
	c io.Closer
}

func (b *body) Close() error {
	err := b.c.Close()
	b.g.Stop()
	return err
}
