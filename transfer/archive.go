package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// Archived objects. A Tree marks an entry it cannot read until a restore
// with Entry.Archive (S3 GLACIER/DEEP_ARCHIVE, US3 ARCHIVE, Azure's Archive
// tier). The engine never opens such an entry:
//
//   - Without Options.Restore it records the object as skipped with the
//     reason "archived: CLASS" (Progress.Archived), and the cursor moves
//     past it. A later run looks again.
//   - With Options.Restore it asks the Tree (an fs.Restorer) to restore the
//     object, unless a restore is already running, and records it as
//     restoring ("restoring: CLASS"). After the walk, the restoring objects
//     are looked at again every Poll (Stat); each one that can be read is
//     recorded pending and copied like any other. The cursor stays below
//     the first one still waiting, so an interrupted run leaves them to the
//     next, which finds them restoring (or readable) and waits again
//     without a second request.
//
// A restore the store refuses fails that object alone, with its reason.

// planArchived decides an archived entry's row (t.obj) in plan: skipped,
// restoring, or failed when the restore request is refused.
func (e *Engine) planArchived(ctx context.Context, t *task) {
	class := t.entry.Archive.Class
	r, canRestore := e.src.(fs.Restorer)
	switch {
	case e.opts.Restore == nil || !canRestore:
		t.obj.State, t.obj.LastError = catalog.StateSkipped, "archived: "+class
		if e.opts.Restore != nil {
			t.obj.LastError += " (this store cannot restore it)"
		}
		e.archived.Add(1)
		e.opts.Logger.Warn("object skipped: archived", "path", t.entry.Path, "class", class)
		return
	case e.opts.DryRun:
		t.obj.State, t.obj.LastError = catalog.StateRestoring, "restoring: "+class
		return
	}
	if !t.entry.Archive.Restoring {
		if err := r.Restore(ctx, t.entry, e.opts.Restore.RestoreOptions); err != nil {
			t.obj.State, t.obj.LastError = catalog.StateFailed, fmt.Sprintf("restore %s object: %v", class, err)
			e.failed.Add(1)
			e.opts.Logger.Warn("object failed: restore refused", "path", t.entry.Path, "class", class, "err", err)
			return
		}
		e.opts.Logger.Info("restore requested", "path", t.entry.Path, "class", class)
	}
	t.obj.State, t.obj.LastError = catalog.StateRestoring, "restoring: "+class
	e.restoring.Add(1)
}

// awaitRestores waits for the restoring objects of this walk, handing each
// to tasks once it can be read (see the top of this file). It returns when
// none is left, or with ctx's error.
func (e *Engine) awaitRestores(ctx context.Context, tasks chan<- *task) error {
	if len(e.waiting) == 0 {
		return nil
	}
	e.opts.Logger.Info("waiting for restores", "objects", len(e.waiting), "poll", e.opts.Restore.Poll)
	for len(e.waiting) > 0 {
		select {
		case <-time.After(e.opts.Restore.Poll):
		case <-ctx.Done():
			return ctx.Err()
		}
		var still, ready []*task
		for _, t := range e.waiting {
			ent, err := e.src.Stat(ctx, t.entry.Path)
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, fs.ErrNotExist):
				t.obj.State, t.obj.LastError = catalog.StateFailed, fmt.Sprintf("restoring object vanished: %v", err)
				e.failed.Add(1)
				e.restoring.Add(-1)
				ready = append(ready, t)
			case err != nil:
				e.opts.Logger.Warn("looking at a restoring object failed; trying again", "path", t.entry.Path, "err", err)
				still = append(still, t)
			case ent.Archived():
				still = append(still, t)
			default:
				e.restoring.Add(-1)
				ent.Key = t.entry.Key
				t.entry = ent
				t.obj.State, t.obj.LastError = catalog.StatePending, ""
				t.obj.Size, t.obj.ModTime, t.obj.Version = ent.Size, ent.ModTime, ent.Version
				e.planned.Add(1)
				e.bytes.Add(ent.Size)
				ready = append(ready, t)
			}
		}
		e.waiting = still
		if len(ready) == 0 {
			continue
		}
		err := e.rec.addSync(ctx, func(w *catalog.Writer) error {
			for _, t := range ready {
				if err := w.PutObject(t.obj); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, t := range ready {
			if t.obj.State == catalog.StateFailed {
				e.cur.finish(t.seq)
				continue
			}
			e.opts.Logger.Info("restored; copying", "path", t.entry.Path)
			select {
			case tasks <- t:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}
