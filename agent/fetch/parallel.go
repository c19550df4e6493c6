package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/httporigin"
)

// errIgnoresRange: a ranged GET got the whole object (200): the executor
// falls back to streaming.
var errIgnoresRange = errors.New("origin ignores Range")

// parallel fetches an object of known size with parallel ranged GETs of one
// part each and uploads it as multipart (see Executor for the memory bound).
func (j *job) parallel(ctx context.Context, size, ps int64) (Result, error) {
	up, err := j.startUpload(ctx, size, ps)
	if err != nil {
		return Result{}, err
	}
	count := int((size + up.partSize - 1) / up.partSize)
	pool := newBufPool(min(j.conc, count), up.partSize)
	seq := newSequencer(pool)
	g, gctx := newGroup(ctx)
	var next atomic.Int64
	for range min(j.conc, count) {
		g.spawn(func() error {
			for {
				buf, err := pool.get(gctx)
				if err != nil {
					return err
				}
				n := int(next.Add(1) - 1)
				if n >= count {
					pool.put(buf)
					return nil
				}
				off := int64(n) * up.partSize
				b := buf[:min(up.partSize, size-off)]
				if err := j.readRange(gctx, off, b); err != nil {
					return err
				}
				sum := partSum(j.sink, b)
				seq.downloaded(n, b)
				if err := up.put(gctx, n, b, sum); err != nil {
					return err
				}
				seq.uploaded(n)
			}
		})
	}
	if err := g.wait(); err != nil {
		up.abort(ctx)
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, err
	}
	info, err := up.complete(ctx, count, size)
	if err != nil {
		up.abort(ctx)
		return Result{}, err
	}
	return Result{OK: true, ETag: info.ETag, SHA1: seq.sum(), Size: size}, nil
}

// readRange fills b with the bytes at off of the pinned version, retrying
// a broken body up to RetryMax times.
func (j *job) readRange(ctx context.Context, off int64, b []byte) error {
	rng := fmt.Sprintf("bytes=%d-%d", off, off+int64(len(b))-1)
	wait := j.x.opts.RetryWaitMin
	for attempt := 0; ; attempt++ {
		err := j.readRangeOnce(ctx, rng, off, b)
		var be *bodyError
		if !errors.As(err, &be) || attempt >= j.x.opts.RetryMax || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, j.x.opts.RetryWaitMax)
	}
}

// bodyError is a response body that broke: worth a new request.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "download failed: read body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// readRangeOnce sends one ranged GET, pinned, and reads its body into b.
func (j *job) readRangeOnce(ctx context.Context, rng string, off int64, b []byte) error {
	resp, err := j.request(ctx, http.MethodGet, rng)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		// The whole object: a new version (an origin honouring If-Range),
		// which the pin tells, or an origin that ignores Range.
		if err := j.pin.check(resp.Header, resp.ContentLength); err != nil {
			return changed(err)
		}
		return errIgnoresRange
	case http.StatusRequestedRangeNotSatisfiable:
		return changed(fmt.Errorf("origin answered %s to %s, within the size it first reported: %w", resp.Status, rng, fs.ErrChanged))
	default:
		return statusFailure(resp)
	}
	first, _, size, err := httporigin.ParseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return fail(err, "download failed: %v", err)
	}
	if err := j.pin.check(resp.Header, size); err != nil {
		return changed(err)
	}
	if first != off {
		err := fmt.Errorf("source answered %s with %q", rng, resp.Header.Get("Content-Range"))
		return fail(err, "download failed: %v", err)
	}
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		return &bodyError{err}
	}
	return nil
}
