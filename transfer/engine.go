package transfer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// Engine copies objects from one Tree into one Sink, recording everything in
// a catalog. An Engine runs one Run at a time.
type Engine struct {
	src    fs.Tree
	dst    fs.Sink
	cat    Catalog
	opts   Options
	cp     *Copier // copies each object, on the run's workers
	filter *Filter
	start  atomic.Int64 // unix nanoseconds when Run began; 0 before

	rec      *recorder
	cur      cursor
	inflight sync.WaitGroup // objects handed out and not yet finished or left

	seen, planned, unchanged, present, copied, failed atomic.Int64
	bytes, bytesDone, bytesCopied, retries, resumed   atomic.Int64
	archived, restoring                               atomic.Int64
	walkDone                                          atomic.Bool
	waiting                                           []*task // archived objects being restored (walk goroutine only)
	end                                               atomic.Pointer[string]
}

// SetEnd lowers the end of the running range to end (exclusive): the walk
// stops before the first object key at or past it. A master that splits a leased
// range calls this through the agent; paths already handed out still finish.
func (e *Engine) SetEnd(end string) {
	e.end.Store(&end)
}

// pastEnd reports whether key p lies at or beyond an end set with SetEnd.
func (e *Engine) pastEnd(p string) bool {
	end := e.end.Load()
	return end != nil && *end != "" && p >= *end
}

// New makes an Engine recording in cat (a *catalog.DB); cat may be nil
// only for a dry run.
func New(src fs.Tree, dst fs.Sink, cat Catalog, opts Options) (*Engine, error) {
	opts = opts.withDefaults()
	if db, ok := cat.(*catalog.DB); ok && db == nil {
		cat = nil
	}
	if cat == nil && !opts.DryRun {
		return nil, errors.New("new engine: a catalog is required")
	}
	f, err := NewFilter(opts.Include, opts.Exclude)
	if err != nil {
		return nil, err
	}
	e := &Engine{src: src, dst: dst, cat: cat, opts: opts, filter: f}
	e.cp = NewCopier(dst, CopierOptions{
		PartSize: opts.PartSize, Retry: e.retryPolicy(), BWLimit: opts.BWLimit,
		Progress: func(n int64) { e.bytesDone.Add(n) }, Retried: func(n int) { e.retries.Add(int64(n)) },
		ObjectRetryTime: opts.ObjectRetryTime, Logger: opts.Logger,
	})
	return e, nil
}

// Progress returns a snapshot of the current run; it is safe to call from
// any goroutine, before, during and after Run.
func (e *Engine) Progress() Progress {
	var el time.Duration
	if st := e.start.Load(); st != 0 {
		el = time.Since(time.Unix(0, st))
	}
	return Progress{
		Seen: e.seen.Load(), Planned: e.planned.Load(), Unchanged: e.unchanged.Load(), Present: e.present.Load(),
		Archived: e.archived.Load(), Restoring: e.restoring.Load(),
		Copied: e.copied.Load(), Failed: e.failed.Load(), Bytes: e.bytes.Load(),
		BytesDone: e.bytesDone.Load(), BytesCopied: e.bytesCopied.Load(), Resumed: e.resumed.Load(), WalkDone: e.walkDone.Load(), Cursor: e.cur.get(), Elapsed: el,
	}
}

// Retries returns how many requests were retried so far.
func (e *Engine) Retries() int64 { return e.retries.Load() }

// task is one object to copy.
type task struct {
	seq   int64
	entry fs.Entry
	obj   catalog.Object
	// staleUpload is an upload begun for an older version of the object;
	// it is aborted before the new copy starts.
	staleUpload string
	// o is the object's copy across attempts (see object).
	o *Object
	// deadline ends the object's retries (Options.ObjectRetryTime from its
	// first attempt); round counts its later attempts, changes the
	// attempts lost to a source that changed.
	deadline       time.Time
	round, changes int
}

// Run copies every selected object of r that is not already copied. It
// returns when all are finished; objects that fail permanently are recorded
// as failed and counted, not returned. The error is for what stops the whole
// run: a walk that cannot start, a catalog that cannot be written, or ctx.
func (e *Engine) Run(ctx context.Context, r fs.Range) (Result, error) {
	e.start.Store(time.Now().UnixNano())
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	e.rec = newRecorder(e.cat, func(err error) { cancel(err) })
	stopWorkers := e.cp.Start(ctx, e.opts.Workers)

	// Two walk batches of look-ahead: the walker records the next batch in
	// the catalog while workers copy this one. A task is a few hundred bytes.
	tasks := make(chan *task, 2*walkBatch)
	walkErr := make(chan error, 1)
	go func() {
		defer close(tasks)
		walkErr <- e.walk(ctx, r, tasks)
	}()

	largeSlots := make(chan struct{}, e.opts.Workers)
	for t := range tasks {
		e.inflight.Add(1)
		if e.cp.SinglePut(t.entry.Size) {
			e.dispatch(ctx, t)
			continue
		}
		select {
		case largeSlots <- struct{}{}:
		case <-ctx.Done():
			e.inflight.Done()
			continue
		}
		go func() {
			defer func() { <-largeSlots }()
			e.copyMultipart(ctx, t)
		}()
	}
	// Objects waiting to be tried again are still in flight: the workers
	// stay until the last one is finished or left for the next run.
	e.inflight.Wait()
	stopWorkers()
	e.rec.close()
	e.walkDone.Store(true)

	res := e.Progress()
	werr := <-walkErr
	// The first cause wins: a catalog that could not be written cancels
	// the run, and the walk then reports only that it was canceled.
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return res, cause
	}
	if werr != nil {
		return res, werr
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("run: %w", context.Cause(ctx))
	}
	return res, nil
}

// fail records a permanent failure of t; it is counted, and the cursor
// moves past it, once the catalog holds it.
func (e *Engine) fail(t *task, err error) {
	e.opts.Logger.Warn("object failed", "path", t.entry.Path, "err", err)
	o := t.obj
	o.State = catalog.StateFailed
	o.LastError = err.Error()
	e.rec.addThen(func(w *catalog.Writer) error { return w.PutObject(o) }, func() {
		e.failed.Add(1)
		e.cur.finish(t.seq)
	})
	e.inflight.Done()
}

// succeed records a verified copy of t; it is counted, and the cursor
// moves past it, once the catalog holds it.
func (e *Engine) succeed(t *task, info fs.ObjectInfo, checksum string) {
	o := t.obj
	o.State = catalog.StateDone
	o.LastError = ""
	o.DstETag = info.ETag
	o.Checksum = checksum
	o.UploadID = ""
	e.rec.addThen(func(w *catalog.Writer) error {
		if err := w.PutObject(o); err != nil {
			return err
		}
		if t.obj.UploadID != "" || o.PartSize > 0 {
			return w.DeleteParts(o.Path)
		}
		return nil
	}, func() {
		e.copied.Add(1)
		e.bytesCopied.Add(o.Size)
		e.cur.finish(t.seq)
	})
	e.inflight.Done()
}
