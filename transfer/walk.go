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

// walked is a selected source entry with the destination's entry at its
// key (Options.Dest), if any.
type walked struct {
	ent fs.Entry
	dst *fs.Entry
}

// walk streams the range's selected entries in batches, decides for each
// whether it must be copied, records the ones to copy in the catalog (before
// any byte moves) and hands them to tasks.
func (e *Engine) walk(ctx context.Context, r fs.Range, tasks chan<- *task) error {
	e.waiting = nil
	var dc *destCursor
	if e.opts.Dest != nil {
		dc = newDestCursor(ctx, e.opts.Dest, r)
		defer func() {
			if err := dc.close(); err != nil {
				e.opts.Logger.Error("listing the destination failed; the objects after the failure are copied without looking", "err", err)
			}
		}()
	}
	batch := make([]walked, 0, walkBatch)
	started := time.Now()
	err := e.src.Walk(ctx, r, func(ent fs.Entry) error {
		if e.pastEnd(ent.ObjectKey()) {
			return errStopWalk
		}
		if !e.filter.Match(ent.Path) {
			return nil
		}
		w := walked{ent: ent}
		if dc != nil {
			if d, ok := dc.find(ent.ObjectKey()); ok {
				w.dst = &d
			}
		}
		batch = append(batch, w)
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
	if err == nil {
		err = e.awaitRestores(ctx, tasks)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("walk source: %w", err)
	}
	return err
}

// plan decides a batch of walked entries: unchanged since a finished copy
// (skipped), already at the destination (recorded as copied) or to copy
// (recorded as pending and handed to tasks).
func (e *Engine) plan(ctx context.Context, batch []walked, tasks chan<- *task) error {
	if len(batch) == 0 {
		return nil
	}
	known := map[string]catalog.Object{}
	if e.cat != nil {
		paths := make([]string, len(batch))
		for i, w := range batch {
			paths[i] = w.ent.Path
		}
		var err error
		if known, err = e.cat.Lookup(ctx, paths); err != nil {
			return fmt.Errorf("look up catalog: %w", err)
		}
	}
	var todo []*task
	var present []*task // already at the destination
	var cold []*task    // archived: skipped, restoring, or failed to restore
	for _, w := range batch {
		ent := w.ent
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
		t := &task{seq: seq, entry: ent, obj: o}
		if ok {
			t.obj.Attempts = old.Attempts
		}
		if ent.Archived() {
			e.planArchived(ctx, t)
			cold = append(cold, t)
			continue
		}
		// An object with an upload of ours in the catalog is resumed or
		// restarted below, never taken as already there.
		if w.dst != nil && (!ok || old.UploadID == "") && Present(ent, *w.dst, e.opts.SizeOnly) {
			t.obj.State, t.obj.DstETag = catalog.StateDone, w.dst.ETag
			present = append(present, t)
			continue
		}
		if ok && old.UploadID != "" {
			if old.Size == ent.Size && old.Version == ent.Version {
				// copyMultipart resumes it.
				t.obj.UploadID, t.obj.PartSize = old.UploadID, old.PartSize
			} else {
				t.staleUpload = old.UploadID
			}
		}
		e.planned.Add(1)
		e.bytes.Add(ent.Size)
		todo = append(todo, t)
	}
	e.present.Add(int64(len(present)))
	if e.opts.DryRun {
		for _, t := range cold {
			verb := "skip"
			if t.obj.State == catalog.StateRestoring {
				verb = "restore"
			}
			fmt.Fprintf(e.opts.DryRunOut, "would %s %s (%s)\n", verb, t.entry.Path, t.obj.LastError)
			e.cur.finish(t.seq)
		}
		for _, t := range todo {
			fmt.Fprintf(e.opts.DryRunOut, "would copy %s (%d bytes)\n", t.entry.Path, t.entry.Size)
			e.cur.finish(t.seq)
		}
		for _, t := range present {
			e.cur.finish(t.seq)
		}
		return nil
	}
	if len(todo)+len(present)+len(cold) > 0 {
		err := e.rec.addSync(ctx, func(w *catalog.Writer) error {
			for _, ts := range [][]*task{present, todo, cold} {
				for _, t := range ts {
					if err := w.PutObject(t.obj); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, t := range present {
		e.cur.finish(t.seq)
	}
	for _, t := range cold {
		if t.obj.State == catalog.StateRestoring {
			e.waiting = append(e.waiting, t) // the cursor waits for it
		} else {
			e.cur.finish(t.seq)
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
