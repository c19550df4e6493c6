package transfer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// An object's copy is tried in attempts. What follows a failed attempt is
// decided by next:
//
//   - the run is stopping: the object stays unfinished (a multipart upload
//     stays recorded) for the next run to resume;
//   - the source changed during the copy (fs.ErrChanged): whatever was
//     uploaded is discarded and the object is copied again at once from its
//     current version, up to Options.Attempts times, then it fails with
//     "source changed during copy";
//   - a permanent error fails the object;
//   - a transient error that outlived the quick per-request retries is
//     tried again later, with a backoff growing to a minute, for as long as
//     Options.ObjectRetryTime allows since the object's first attempt; only
//     then does the object fail. A multipart upload keeps its finished parts
//     meanwhile.

// decision is what follows a failed attempt.
type decision struct {
	stop  bool          // the run is stopping: leave the object unfinished
	final error         // fail the object with this error
	wait  time.Duration // otherwise: try again after wait (0: at once)
}

// next decides what follows a failed attempt at t (see above), updating t
// for a source that changed.
func (e *Engine) next(ctx context.Context, t *task, err error) decision {
	switch {
	case ctx.Err() != nil:
		return decision{stop: true}
	case errors.Is(err, fs.ErrChanged):
		t.changes++
		if t.changes >= e.opts.Attempts {
			return decision{final: fmt.Errorf("%s: gave up after %d tries: %w", t.entry.Path, t.changes, err)}
		}
		e.retries.Add(1)
		e.opts.Logger.Info("source changed during copy; copying it again from the start", "path", t.entry.Path, "err", err)
		if err := e.refresh(ctx, t); err != nil {
			if ctx.Err() != nil {
				return decision{stop: true}
			}
			return decision{final: err}
		}
		return decision{}
	case isPermanent(err):
		return decision{final: err}
	}
	if t.deadline.IsZero() {
		t.deadline = time.Now().Add(e.opts.ObjectRetryTime)
	}
	wait := e.backoff(t.round)
	if time.Now().Add(wait).After(t.deadline) {
		return decision{final: fmt.Errorf("%w (still failing after %s of retries)", err, e.opts.ObjectRetryTime)}
	}
	t.round++
	e.retries.Add(1)
	e.opts.Logger.Info("object retried later", "path", t.entry.Path, "err", err, "in", wait.Round(time.Millisecond))
	return decision{wait: wait}
}

// backoff is the wait before the round-th later attempt of an object:
// 8 × RetryBase, doubling, capped at a minute, with jitter.
func (e *Engine) backoff(round int) time.Duration {
	d := e.opts.RetryBase * 8 << min(round, 16)
	if d <= 0 || d > time.Minute {
		d = time.Minute
	}
	return d/2 + rand.N(d/2+1)
}

// refresh re-reads the source entry of t after it changed, so the next
// attempt copies (and the catalog records) its current version.
func (e *Engine) refresh(ctx context.Context, t *task) error {
	var ent fs.Entry
	err := e.retry(ctx, nil, func() error {
		var err error
		ent, err = e.src.Stat(ctx, t.entry.Path)
		return err
	})
	if err != nil {
		return fmt.Errorf("stat changed source %s: %w", t.entry.Path, err)
	}
	if ent.IsDir() {
		return fmt.Errorf("stat changed source %s: now a directory: %w", t.entry.Path, fs.ErrIsDir)
	}
	e.bytes.Add(ent.Size - t.entry.Size)
	if ent.Key == "" && t.entry.Key != "" {
		ent.Key = t.entry.Key
	}
	t.entry = ent
	t.obj.Size, t.obj.ModTime, t.obj.Version = ent.Size, ent.ModTime, ent.Version
	return nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// dispatch hands an object that is in flight (counted in e.inflight) to
// the path its size takes: a worker for a single Put, its own goroutine
// for a multipart copy. A stopping run leaves it unfinished.
func (e *Engine) dispatch(ctx context.Context, t task) {
	if !e.singlePut(t.entry.Size) {
		go e.copyMultipart(ctx, t)
		return
	}
	select {
	case e.units <- unit{t: t, part: -1, size: t.entry.Size}:
	case <-ctx.Done():
		e.inflight.Done()
	}
}

// later dispatches t again after wait, without holding a worker meanwhile.
func (e *Engine) later(ctx context.Context, t task, wait time.Duration) {
	go func() {
		if !sleep(ctx, wait) {
			e.inflight.Done()
			return
		}
		e.dispatch(ctx, t)
	}()
}

// checkVersion proves, for a source File that is a fs.VersionChecker,
// that it is still the version it was opened as; other Files are pinned
// by their store on every read.
func checkVersion(ctx context.Context, f fs.File) error {
	if vc, ok := f.(fs.VersionChecker); ok {
		return vc.CheckVersion(ctx)
	}
	return nil
}

// blame returns the version check's error when err (an upload's failure)
// may come from the source changing under a body re-read from the file
// (a checksum the store refused), so the copy restarts at once rather than
// retrying a body that can no longer match; otherwise err.
func blame(ctx context.Context, f fs.File, err error) error {
	if err == nil {
		return nil
	}
	if verr := checkVersion(ctx, f); verr != nil && errors.Is(verr, fs.ErrChanged) {
		return verr
	}
	return err
}

// markCopying records that the upload of t is under way, so the catalog
// shows a resumed object as copying rather than pending.
func (e *Engine) markCopying(t *task) {
	t.obj.State = catalog.StateCopying
	o := t.obj
	e.rec.add(func(w *catalog.Writer) error { return w.PutObject(o) })
}
