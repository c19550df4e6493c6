package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// stream fetches the object with one plain GET, retrying from the start up
// to RetryMax times when the body breaks (without Range support nothing
// can resume); a retry that finds another version fails (see pin). The
// first GET sets the pin: nothing the HEAD said is stored, and some
// origins answer HEAD with another length than GET.
func (j *job) stream(ctx context.Context, ps int64) (Result, error) {
	j.pin = &pin{}
	wait := j.x.opts.RetryWaitMin
	for attempt := 0; ; attempt++ {
		res, err := j.streamOnce(ctx, ps)
		var be *bodyError
		if !errors.As(err, &be) || attempt >= j.x.opts.RetryMax || ctx.Err() != nil {
			return res, err
		}
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, j.x.opts.RetryWaitMax)
	}
}

// streamOnce is one GET: a small object is stored with one Put; a larger
// one is cut into parts uploaded while the next ones are read.
func (j *job) streamOnce(ctx context.Context, ps int64) (Result, error) {
	resp, err := j.request(ctx, http.MethodGet, "")
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := statusFailure(resp)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			err.(*failure).retry = true
		}
		return Result{}, err
	}
	if err := j.pin.check(resp.Header, resp.ContentLength); err != nil {
		return Result{}, changed(err)
	}
	declared := resp.ContentLength
	limit := j.singleLimit(ps)
	first := make([]byte, limit+1)
	k, err := io.ReadFull(resp.Body, first)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return j.small(ctx, first[:k], declared)
	case err != nil:
		return Result{}, &bodyError{err}
	}
	up, err := j.startUpload(ctx, declared, ps)
	if err != nil {
		return Result{}, err
	}
	res, err := j.streamParts(ctx, up, io.MultiReader(bytes.NewReader(first), resp.Body), declared)
	if err != nil {
		up.abort(ctx)
	}
	return res, err
}

// small stores a whole object read into body.
func (j *job) small(ctx context.Context, body []byte, declared int64) (Result, error) {
	if declared >= 0 && int64(len(body)) != declared {
		return Result{}, &bodyError{fmt.Errorf("got %d bytes, Content-Length said %d", len(body), declared)}
	}
	h := newSHA1()
	h.Write(body)
	info, err := j.put(ctx, body, partSum(j.sink, body))
	if err != nil {
		return Result{}, err
	}
	return Result{OK: true, ETag: info.ETag, SHA1: hexSum(h), Size: int64(len(body))}, nil
}

// streamParts reads r part by part into pooled buffers, hashing in order,
// and uploads each part while reading the next.
func (j *job) streamParts(ctx context.Context, up *upload, r io.Reader, declared int64) (Result, error) {
	pool := newBufPool(j.conc, up.partSize)
	whole := newSHA1()
	g, gctx := newGroup(ctx)
	var total int64
	n := 0
	var readErr error
	for {
		buf, err := pool.get(gctx)
		if err != nil {
			break
		}
		k, err := io.ReadFull(r, buf)
		if k == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			pool.put(buf)
			break
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			pool.put(buf)
			readErr = &bodyError{err}
			break
		}
		b := buf[:k]
		whole.Write(b)
		total += int64(k)
		part := n
		g.spawn(func() error {
			defer pool.put(b)
			return up.put(gctx, part, b, partSum(j.sink, b))
		})
		n++
		if k < len(buf) {
			break
		}
	}
	err := g.wait()
	switch {
	case readErr != nil:
		return Result{}, readErr
	case err != nil:
		return Result{}, err
	case ctx.Err() != nil:
		return Result{}, ctx.Err()
	case declared >= 0 && total != declared:
		return Result{}, &bodyError{fmt.Errorf("got %d bytes, Content-Length said %d", total, declared)}
	}
	info, err := up.complete(ctx, n, total)
	if err != nil {
		return Result{}, err
	}
	return Result{OK: true, ETag: info.ETag, SHA1: hexSum(whole), Size: total}, nil
}
