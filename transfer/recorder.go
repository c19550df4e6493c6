package transfer

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// Catalog is what the engine needs of its object catalog: the rows of a
// walked batch, the parts recorded for an object, and batched writes of
// object states and parts. *catalog.DB is one.
type Catalog interface {
	Lookup(ctx context.Context, paths []string) (map[string]catalog.Object, error)
	Parts(ctx context.Context, path string) ([]catalog.Part, error)
	Write(ctx context.Context, fn func(w *catalog.Writer) error) error
}

var _ Catalog = (*catalog.DB)(nil)

// recorder batches catalog writes: one transaction per up to maxBatch
// operations or flushEvery, whichever comes first, so the catalog never
// limits small-object throughput. With a nil catalog (dry run) every
// operation is a no-op.
type recorder struct {
	db    Catalog
	ops   chan recOp
	fatal func(error)
	done  chan struct{}
}

type recOp struct {
	fn    func(w *catalog.Writer) error
	after func()     // called once the batch holding fn has committed; may be nil
	sync  chan error // receives the batch's outcome; nil = async
}

const (
	maxBatch   = 2000
	flushEvery = 100 * time.Millisecond
)

func newRecorder(db Catalog, fatal func(error)) *recorder {
	r := &recorder{db: db, ops: make(chan recOp, maxBatch), fatal: fatal, done: make(chan struct{})}
	go r.loop()
	return r
}

// add queues fn; it returns at once.
func (r *recorder) add(fn func(w *catalog.Writer) error) {
	r.addThen(fn, nil)
}

// addThen queues fn and calls after once the batch holding fn has
// committed (never when it failed): what is counted is what was recorded.
// With no catalog (a dry run) after is called at once.
func (r *recorder) addThen(fn func(w *catalog.Writer) error, after func()) {
	if r.db == nil {
		if after != nil {
			after()
		}
		return
	}
	r.ops <- recOp{fn: fn, after: after}
}

// addSync queues fn and waits until it is committed.
func (r *recorder) addSync(ctx context.Context, fn func(w *catalog.Writer) error) error {
	if r.db == nil {
		return nil
	}
	op := recOp{fn: fn, sync: make(chan error, 1)}
	select {
	case r.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-op.sync:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close flushes every queued operation and stops the loop.
func (r *recorder) close() {
	close(r.ops)
	<-r.done
}

func (r *recorder) loop() {
	defer close(r.done)
	var batch []recOp
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// Catalog writes must land even while the run is being canceled:
		// they record work that is already done.
		err := r.db.Write(context.Background(), func(w *catalog.Writer) error {
			for _, op := range batch {
				if err := op.fn(w); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			err = fmt.Errorf("write catalog: %w", err)
			r.fatal(err)
		}
		for _, op := range batch {
			if err == nil && op.after != nil {
				op.after()
			}
			if op.sync != nil {
				op.sync <- err
			}
		}
		batch = batch[:0]
	}
	for {
		select {
		case op, ok := <-r.ops:
			if !ok {
				flush()
				return
			}
			if len(batch) == 0 {
				timer.Reset(flushEvery)
			}
			batch = append(batch, op)
			if len(batch) >= maxBatch || op.sync != nil {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}
