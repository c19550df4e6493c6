package transfer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

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

// object returns t's copy (the Copier's Object) for the next attempt,
// described by t's current entry.
func (e *Engine) object(t *task) *Object {
	if t.o == nil {
		t.o = &Object{UploadID: t.obj.UploadID, PartSize: t.obj.PartSize, Stale: t.staleUpload, Local: e.isLocal()}
		if e.cat != nil {
			t.o.Journal = journal{e: e, t: t}
		}
		t.staleUpload = ""
	}
	ent, o := t.entry, t.o
	o.Key, o.Path, o.Size = ent.ObjectKey(), ent.Path, ent.Size
	o.Open = func(ctx context.Context) (fs.File, error) { return e.open(ctx, ent) }
	if so, ok := e.src.(fs.SequentialOnly); ok {
		o.Sequential = so.SequentialOnly(ent.Path)
	}
	o.Deadline = t.deadline
	return o
}

// attempt is one attempt at copying t (with buf for a single Put); the
// catalog row follows the upload it leaves.
func (e *Engine) attempt(ctx context.Context, t *task, buf *[]byte) (fs.ObjectInfo, []byte, error) {
	t.obj.Attempts++
	o := e.object(t)
	info, sum, err := e.cp.copy(ctx, o, buf)
	t.obj.UploadID, t.obj.PartSize = o.UploadID, o.PartSize
	return info, sum, err
}

// copySmall copies an object with one Put and verifies it, trying again as
// next decides.
func (e *Engine) copySmall(ctx context.Context, t *task, buf *[]byte) {
	e.begin(t)
	for {
		info, sum, err := e.attempt(ctx, t, buf)
		if err == nil {
			e.bytesDone.Add(t.entry.Size)
			e.succeed(t, info, checksum(info, sum))
			return
		}
		d := e.next(ctx, t, err)
		switch {
		case d.stop:
			e.inflight.Done()
			return
		case d.final != nil:
			e.fail(t, d.final)
			return
		case d.wait > 0 || !e.cp.SinglePut(t.entry.Size):
			e.later(ctx, t, d.wait) // frees this worker meanwhile
			return
		}
	}
}

// begin starts the clock of an object's retries (Options.ObjectRetryTime).
func (e *Engine) begin(t *task) {
	if t.deadline.IsZero() {
		t.deadline = time.Now().Add(e.opts.ObjectRetryTime)
	}
}

// copyMultipart copies a large object part by part: the Copier resumes
// the upload the catalog recorded when the object is unchanged (uploading
// only the parts the destination lacks), or starts a new one whose ID is
// durable in the catalog before the first part moves. Parts run on the
// shared workers. Failed attempts are tried again as next decides; a
// source that changed aborts the upload and starts a new one from its
// current version.
func (e *Engine) copyMultipart(ctx context.Context, t *task) {
	e.begin(t)
	for {
		info, _, err := e.attempt(ctx, t, nil)
		if err == nil {
			e.succeed(t, info, checksum(info, nil))
			return
		}
		d := e.next(ctx, t, err)
		switch {
		case d.stop:
			e.inflight.Done() // the upload stays recorded for the next run
			return
		case d.final != nil:
			e.cp.Abort(ctx, t.o) // nothing is orphaned
			t.obj.UploadID, t.obj.PartSize = "", 0
			e.fail(t, d.final)
			return
		case e.cp.SinglePut(t.entry.Size):
			e.cp.Discard(t.o)
			e.later(ctx, t, d.wait)
			return
		}
		if !sleep(ctx, d.wait) {
			e.inflight.Done()
			return
		}
	}
}

// isLocal reports whether the source's files are local (fs.Local).
func (e *Engine) isLocal() bool {
	l, ok := e.src.(fs.Local)
	return ok && l.IsLocal()
}

// open opens the walked entry, without a second request to the store when
// the Tree can trust the entry (fs.EntryOpener).
func (e *Engine) open(ctx context.Context, ent fs.Entry) (fs.File, error) {
	var f fs.File
	var err error
	if eo, ok := e.src.(fs.EntryOpener); ok {
		f, err = eo.OpenEntry(ctx, ent)
	} else {
		f, err = e.src.Open(ctx, ent.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", ent.Path, err)
	}
	return f, nil
}

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
	wait := backoff(e.opts.RetryBase, t.round)
	if time.Now().Add(wait).After(t.deadline) {
		return decision{final: fmt.Errorf("%w (still failing after %s of retries)", err, e.opts.ObjectRetryTime)}
	}
	t.round++
	e.retries.Add(1)
	e.opts.Logger.Info("object retried later", "path", t.entry.Path, "err", err, "in", wait.Round(time.Millisecond))
	return decision{wait: wait}
}

// backoff is the wait before the round-th later attempt of an object or
// part: 8 × base, doubling, capped at a minute, with jitter.
func backoff(base time.Duration, round int) time.Duration {
	d := base * 8 << min(round, 16)
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
func (e *Engine) dispatch(ctx context.Context, t *task) {
	if !e.cp.SinglePut(t.entry.Size) {
		go e.copyMultipart(ctx, t)
		return
	}
	e.cp.Go(ctx, func(buf *[]byte) { e.copySmall(ctx, t, buf) }, e.inflight.Done)
}

// later dispatches t again after wait, without holding a worker meanwhile.
func (e *Engine) later(ctx context.Context, t *task, wait time.Duration) {
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
