package mount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// Backoff between tries of a request that failed transiently: the wait
// after the n-th failure (from 0) is drawn uniformly from [d/4, d] with
// d = retryBase<<n capped at retryCap (exponential, jittered so that
// readers do not retry in step), so a blip of a second costs about a
// second and a long outage is probed every one to two seconds.
const (
	retryBase = 100 * time.Millisecond
	retryCap  = 2 * time.Second
)

// classifier is the optional extra of a Tree whose driver knows which of
// its errors will fail again however often retried (the S3 and US3
// stores' IsPermanent).
type classifier interface {
	IsPermanent(err error) bool
}

// retrier retries a mount's requests to its tree (listings, stats, opens
// and reads) through transient errors: a store that is unreachable, restarting
// or answering 5xx for a while is waited for, up to timeout after the
// request began, before the request fails with EIO.
//
// Only trees that classify their errors are retried (see classifier): a
// directory tree's errors are the local file system's, and a URL list
// retries by itself. Errors that say the request can never succeed are not
// retried, whatever the tree says: absent, permission denied, wrong kind,
// a source object that changed since it was listed or opened
// (fs.ErrChanged), or a read cancelled (a file closed, the mount ending).
type retrier struct {
	timeout   time.Duration    // how long after its start a request is retried; 0: never
	permanent func(error) bool // the tree's classification; nil: never retry
	log       *slog.Logger
}

// newRetrier retries tree's transient errors for up to timeout, when tree
// classifies its errors.
func newRetrier(tree fs.Tree, timeout time.Duration, log *slog.Logger) retrier {
	r := retrier{timeout: timeout, log: log}
	if c, ok := tree.(classifier); ok && timeout > 0 {
		r.permanent = c.IsPermanent
	}
	return r
}

// deadline is when a request starting now stops being retried.
func (r retrier) deadline() time.Time { return time.Now().Add(r.timeout) }

// do calls fn until it returns nil, returns an error that retrying cannot
// fix, ctx ends, or deadline passes, sleeping with backoff between tries,
// and returns fn's last error (noting the time spent when it gave up
// retrying). fn is called at least once, and once more at the deadline
// when the backoff would pass it. The ending of ctx stops the sleep at
// once and returns ctx's error.
func (r retrier) do(ctx context.Context, deadline time.Time, op, path string, fn func() error) error {
	start := time.Now()
	for try := 0; ; try++ {
		err := fn()
		if err == nil || !r.transient(ctx, err) {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("give up after %s of retries: %w", time.Since(start).Round(time.Millisecond), err)
		}
		wait := min(backoff(try), left)
		r.log.Debug("mount: retrying", "op", op, "path", path, "try", try+1, "in", wait.Round(time.Millisecond), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("retry %s: %w", op, ctx.Err())
		case <-t.C:
		}
	}
}

// transient reports whether err is worth another try.
func (r retrier) transient(ctx context.Context, err error) bool {
	switch {
	case r.permanent == nil, ctx.Err() != nil:
		return false
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission),
		errors.Is(err, fs.ErrNotDir), errors.Is(err, fs.ErrIsDir),
		errors.Is(err, fs.ErrChanged), errors.Is(err, context.Canceled):
		return false
	}
	return !r.permanent(err)
}

// backoff is the wait after the try-th failure (from 0).
func backoff(try int) time.Duration {
	d := retryCap
	if try < 8 {
		d = min(retryBase<<try, retryCap)
	}
	return d/4 + rand.N(d-d/4+1)
}
