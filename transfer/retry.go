package transfer

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// permanent wraps err so that retry gives up at once.
func permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, fs.ErrIsDir) || errors.Is(err, fs.ErrNotDir) || errors.Is(err, fs.ErrChanged)
}

// RetryPolicy says how often and how patiently Retry tries.
type RetryPolicy struct {
	// Attempts is the most calls of fn (at least one is made).
	Attempts int
	// Base is the first backoff; each retry doubles it, up to 15s.
	Base time.Duration
	// OnRetry, when set, is called before each backoff sleep with the
	// error being retried and the sleep.
	OnRetry func(err error, wait time.Duration)
}

// Retry calls fn until it succeeds, returns a permanent error, the context
// ends, or attempts run out, and returns fn's last error (wrapped as
// permanent when it was). It sleeps with exponential backoff and full
// jitter between tries; classify tells which errors are permanent, besides
// fs.ErrNotExist, fs.ErrPermission, fs.ErrIsDir, fs.ErrNotDir and
// fs.ErrChanged (a changed source is copied again from the start, never
// re-read piecemeal).
func Retry(ctx context.Context, p RetryPolicy, classify func(error) bool, fn func() error) error {
	var err error
	for i := 0; i < max(p.Attempts, 1); i++ {
		if err = fn(); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if isPermanent(err) || (classify != nil && classify(err)) {
			return permanent(err)
		}
		if i >= p.Attempts-1 {
			break
		}
		d := p.Base << i
		if d > 15*time.Second || d <= 0 {
			d = 15 * time.Second
		}
		wait := rand.N(d) + d/4
		if p.OnRetry != nil {
			p.OnRetry(err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return err
}

// retry is Retry with the Copier's policy for Sink requests.
func (c *Copier) retry(ctx context.Context, classify func(error) bool, fn func() error) error {
	return Retry(ctx, c.opts.Retry, classify, fn)
}

// readRetry is Retry for source reads (CopierOptions.ReadAttempts).
func (c *Copier) readRetry(ctx context.Context, fn func() error) error {
	p := c.opts.Retry
	p.Attempts = c.opts.ReadAttempts
	return Retry(ctx, p, nil, fn)
}

// Permanent reports whether err is one that retrying cannot fix: marked
// so by Retry or the Copier, or a source that is missing, refused, not a
// file, or changed (fs.ErrChanged: copy it again from the start).
func Permanent(err error) bool { return isPermanent(err) }

// retryPolicy is the engine's per-request policy; each retry is counted
// and logged (at Info: ferry migrate run --verbose).
func (e *Engine) retryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: e.opts.Attempts, Base: e.opts.RetryBase, OnRetry: func(err error, wait time.Duration) {
		e.retries.Add(1)
		e.opts.Logger.Info("retrying", "err", err, "in", wait.Round(time.Millisecond))
	}}
}

// retry is Retry with the engine's policy.
func (e *Engine) retry(ctx context.Context, classify func(error) bool, fn func() error) error {
	return Retry(ctx, e.retryPolicy(), classify, fn)
}
