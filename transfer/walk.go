package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

const walkBatch = 500

// errStopWalk ends a walk that reached an end lowered by SetEnd.
var errStopWalk = errors.New("walk reached the lowered range end")

// walk streams the range's selected entries in batches, decides for each
// whether it must be copied, records the ones to copy in the catalog (before
// any byte moves) and hands them to tasks.
func (e *Engine) walk(ctx context.Context, r fs.Range, tasks chan<- task) error {
	batch := make([]fs.Entry, 0, walkBatch)
	started := time.Now()
	err := e.src.Walk(ctx, r, func(ent fs.Entry) error {
		if e.pastEnd(ent.ObjectKey()) {
			return errStopWalk
		}
		if !e.filter.Match(ent.Path) {
			return nil
		}
		batch = append(batch, ent)
		if len(batch) >= walkBatch || time.Since(started) > 200*time.Millisecond {
			err := e.plan(ctx, batch, tasks)
			batch, started = batch[:0], time.Now()
			return err
		}
		return nil
	})
	if err == nil || errors.Is(err, errStopWalk) {
		err = e.plan(ctx, batch, tasks)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("walk source: %w", err)
	}
	return err
}

// plan decides a batch of walked entries.
func (e *Engine) plan(ctx context.Context, batch []fs.Entry, tasks chan<- task) error {
	if len(batch) == 0 {
		return nil
	}
	known := map[string]catalog.Object{}
	if e.cat != nil {
		paths := make([]string, len(batch))
		for i, ent := range batch {
			paths[i] = ent.Path
		}
		var err error
		if known, err = e.cat.Lookup(ctx, paths); err != nil {
			return fmt.Errorf("look up catalog: %w", err)
		}
	}
	var todo []task
	for _, ent := range batch {
		e.seen.Add(1)
		seq := e.cur.add(ent.ObjectKey())
		old, ok := known[ent.Path]
		if ok && e.isUnchanged(old, ent) {
			e.unchanged.Add(1)
			e.cur.finish(seq)
			continue
		}
		o := catalog.Object{
			Path: ent.Path, Size: ent.Size, ModTime: ent.ModTime, Version: ent.Version,
			State: catalog.StatePending,
		}
		if ent.Key != "" && ent.Key != ent.Path {
			o.Key = ent.Key
		}
		t := task{seq: seq, entry: ent, obj: o}
		if ok {
			t.obj.Attempts = old.Attempts
			if old.UploadID != "" {
				if old.Size == ent.Size && old.Version == ent.Version {
					// copyMultipart resumes it.
					t.obj.UploadID, t.obj.PartSize = old.UploadID, old.PartSize
				} else {
					t.staleUpload = old.UploadID
				}
			}
		}
		e.planned.Add(1)
		e.bytes.Add(ent.Size)
		todo = append(todo, t)
	}
	if e.opts.DryRun {
		for _, t := range todo {
			fmt.Fprintf(e.opts.DryRunOut, "would copy %s (%d bytes)\n", t.entry.Path, t.entry.Size)
			e.cur.finish(t.seq)
		}
		return nil
	}
	if len(todo) > 0 {
		err := e.rec.addSync(ctx, func(w *catalog.Writer) error {
			for _, t := range todo {
				if err := w.PutObject(t.obj); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, t := range todo {
		select {
		case tasks <- t:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// isUnchanged reports whether the catalog's finished copy still matches ent.
func (e *Engine) isUnchanged(old catalog.Object, ent fs.Entry) bool {
	if old.State != catalog.StateDone || old.Size != ent.Size {
		return false
	}
	return e.opts.SizeOnly || old.Version == ent.Version
}
