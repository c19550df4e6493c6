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
		errors.Is(err, fs.ErrIsDir) || errors.Is(err, fs.ErrNotDir)
}

// retry calls fn until it succeeds, returns a permanent error, the context
// ends, or attempts run out. It sleeps with exponential backoff and full
// jitter between tries; classify tells which errors are permanent.
func (e *Engine) retry(ctx context.Context, classify func(error) bool, fn func() error) error {
	var err error
	for i := 0; i < e.opts.Attempts; i++ {
		if err = fn(); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if isPermanent(err) || (classify != nil && classify(err)) {
			return permanent(err)
		}
		if i == e.opts.Attempts-1 {
			break
		}
		e.retries.Add(1)
		d := e.opts.RetryBase << i
		if d > 15*time.Second || d <= 0 {
			d = 15 * time.Second
		}
		t := time.NewTimer(rand.N(d) + d/4)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return err
}
