package transfer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// copyMultipart copies a large object part by part: it resumes the upload
// the catalog recorded when the object is unchanged (uploading only the
// parts the destination lacks), or starts a new one whose ID is durable in
// the catalog before the first part moves. Parts run on the shared workers.
// Failed attempts are tried again as next decides; a source that changed
// aborts the upload and starts a new one from its current version.
func (e *Engine) copyMultipart(ctx context.Context, t task) {
	e.begin(&t)
	var have map[int]donePart // parts of t's current upload, kept across attempts
	for {
		info, err := e.multipartOnce(ctx, &t, &have)
		if err == nil {
			e.succeed(t, info, e.checksum(info, nil))
			return
		}
		if errors.Is(err, fs.ErrChanged) && ctx.Err() == nil {
			e.discard(ctx, &t, have)
			have = nil
		}
		d := e.next(ctx, &t, err)
		switch {
		case d.stop:
			e.inflight.Done() // the upload stays recorded for the next run
			return
		case d.final != nil:
			e.finishMultipartError(ctx, t, d.final)
			return
		case e.singlePut(t.entry.Size):
			e.discard(ctx, &t, have)
			e.later(ctx, t, d.wait)
			return
		}
		if !sleep(ctx, d.wait) {
			e.inflight.Done()
			return
		}
	}
}

// discard aborts the upload of t (whose parts were of a version that no
// longer is) and uncounts the bytes its parts had added to the progress.
func (e *Engine) discard(ctx context.Context, t *task, have map[int]donePart) {
	for _, p := range have {
		e.bytesDone.Add(-p.part.Size)
	}
	if t.obj.UploadID != "" {
		t.staleUpload, t.obj.UploadID, t.obj.PartSize = t.obj.UploadID, "", 0
	}
}

// multipartOnce is one attempt at a multipart copy of t. *have holds the
// parts already in its upload (nil before the upload is looked at); the
// source is checked to be the version it was opened as after the last part
// and before the upload is completed, so a completed object is always of
// one version.
func (e *Engine) multipartOnce(ctx context.Context, t *task, have *map[int]donePart) (fs.ObjectInfo, error) {
	t.obj.Attempts++
	key := t.entry.ObjectKey()
	if t.staleUpload != "" {
		_ = e.dst.AbortMultipart(context.WithoutCancel(ctx), key, t.staleUpload)
		t.staleUpload = ""
	}
	f, err := e.openRetry(ctx, t.entry)
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	defer f.Close()

	if *have == nil {
		h, err := e.resume(ctx, t, f)
		if err != nil {
			return fs.ObjectInfo{}, err
		}
		*have = h
		if t.obj.UploadID != "" {
			e.resumed.Add(1)
			e.markCopying(t)
		}
		for _, p := range h {
			e.bytesDone.Add(p.part.Size)
		}
	}
	if t.obj.UploadID == "" {
		var up fs.Upload
		err := e.retry(ctx, e.dst.IsPermanent, func() error {
			var err error
			up, err = e.dst.CreateMultipart(ctx, key, t.entry.Size, e.partSize(t.entry.Size))
			return err
		})
		if err != nil {
			return fs.ObjectInfo{}, fmt.Errorf("start multipart upload of %s: %w", key, err)
		}
		t.obj.UploadID, t.obj.PartSize, t.obj.State = up.ID, up.PartSize, catalog.StateCopying
		o := t.obj
		if err := e.rec.addSync(ctx, func(w *catalog.Writer) error { return w.PutObject(o) }); err != nil {
			return fs.ObjectInfo{}, err // the run is stopping; the upload stays recorded or unstarted
		}
		*have = map[int]donePart{}
	}

	size, ps := t.entry.Size, t.obj.PartSize
	n := int((size + ps - 1) / ps)
	var todo []int
	for i := 0; i < n; i++ {
		if h, ok := (*have)[i]; !ok || h.part.Size != min(ps, size-int64(i)*ps) {
			delete(*have, i)
			todo = append(todo, i)
		}
	}
	// Parts that outlive their quick retries go round again, later, while
	// the object's retry time lasts; their upload and the other parts stay.
	for round := 0; len(todo) > 0; round++ {
		failed, err := e.sendParts(ctx, *t, f, todo, *have)
		if err != nil {
			return fs.ObjectInfo{}, err
		}
		if len(failed) == 0 {
			break
		}
		wait := e.backoff(round)
		if time.Now().Add(wait).After(t.deadline) {
			return fs.ObjectInfo{}, fmt.Errorf("%w (still failing after %s of retries)", failed[0].err, e.opts.ObjectRetryTime)
		}
		e.retries.Add(int64(len(failed)))
		e.opts.Logger.Info("parts retried later", "path", t.entry.Path, "parts", len(failed), "err", failed[0].err, "in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return fs.ObjectInfo{}, ctx.Err()
		}
		todo = todo[:0]
		for _, r := range failed {
			todo = append(todo, r.n)
		}
	}
	if err := checkVersion(ctx, f); err != nil {
		return fs.ObjectInfo{}, err
	}
	parts := make([]fs.Part, n)
	sums := make([][]byte, n)
	for i, p := range *have {
		parts[i], sums[i] = p.part, p.sum
	}
	return e.complete(ctx, key, *t, parts, sums)
}

// failedPart is a part whose upload outlived its quick retries.
type failedPart struct {
	n   int
	err error
}

// sendParts uploads the parts todo of t's upload on the workers, adding
// each finished one to have. It returns the parts that failed with a
// transient error, or the first other error (a permanent one, a changed
// source, a stopping run) once every part sent has come back.
func (e *Engine) sendParts(ctx context.Context, t task, f fs.File, todo []int, have map[int]donePart) ([]failedPart, error) {
	size, ps := t.entry.Size, t.obj.PartSize
	sequential := false
	if so, ok := e.src.(fs.SequentialOnly); ok {
		sequential = so.SequentialOnly(t.entry.Path)
	}
	results := make(chan partResult, len(todo))
	var failed []failedPart
	var firstErr error
	take := func(r partResult) {
		switch {
		case r.err == nil:
			have[r.part.Number] = donePart{part: r.part, sum: r.sum}
		case firstErr == nil && (ctx.Err() != nil || isPermanent(r.err)):
			firstErr = r.err
		case firstErr == nil:
			failed = append(failed, failedPart{n: r.n, err: r.err})
		}
	}
	pending := 0
	for _, i := range todo {
		if firstErr != nil || ctx.Err() != nil {
			break
		}
		off := int64(i) * ps
		u := unit{t: t, part: i, off: off, size: min(ps, size-off), file: f, upload: t.obj.UploadID, result: results}
		select {
		case e.units <- u:
			pending++
		case <-ctx.Done():
		}
		if sequential && pending > 0 {
			// The source reads in order only: one part at a time.
			take(<-results)
			pending--
			if len(failed) > 0 {
				break
			}
		}
	}
	for ; pending > 0; pending-- {
		take(<-results)
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if sequential && len(failed) > 0 {
		// Later parts were not sent: they go round with the failed one.
		seen := map[int]bool{}
		for _, fp := range failed {
			seen[fp.n] = true
		}
		for _, i := range todo {
			if _, ok := have[i]; !ok && !seen[i] {
				failed = append(failed, failedPart{n: i, err: failed[0].err})
			}
		}
	}
	return failed, nil
}

// finishMultipartError ends a failed multipart copy: the upload is aborted
// so nothing is orphaned, and the object is recorded as failed.
func (e *Engine) finishMultipartError(ctx context.Context, t task, err error) {
	if t.obj.UploadID != "" {
		_ = e.dst.AbortMultipart(context.WithoutCancel(ctx), t.entry.ObjectKey(), t.obj.UploadID)
	}
	if t.staleUpload != "" {
		_ = e.dst.AbortMultipart(context.WithoutCancel(ctx), t.entry.ObjectKey(), t.staleUpload)
	}
	t.obj.UploadID, t.obj.PartSize = "", 0
	e.fail(t, err)
}

type donePart struct {
	part fs.Part
	sum  []byte
}

// resume returns the parts already stored for the recorded upload of t, or
// clears t's upload when the destination no longer knows it. Parts the
// destination holds but the catalog missed (a crash before the batch was
// committed) are kept only if their bytes re-read from the source hash to
// the part's ETag; others are uploaded again.
func (e *Engine) resume(ctx context.Context, t *task, f fs.File) (map[int]donePart, error) {
	if t.obj.UploadID == "" {
		return nil, nil
	}
	key := t.entry.ObjectKey()
	var listed []fs.Part
	err := e.retry(ctx, e.dst.IsPermanent, func() error {
		var err error
		listed, err = e.dst.ListParts(ctx, key, t.obj.UploadID)
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		t.obj.UploadID, t.obj.PartSize = "", 0
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", key, err)
	}
	recorded, err := e.cat.Parts(ctx, t.obj.Path)
	if err != nil {
		return nil, fmt.Errorf("read catalog parts of %s: %w", t.obj.Path, err)
	}
	byNum := map[int]catalog.Part{}
	for _, p := range recorded {
		byNum[p.Number] = p
	}
	have := map[int]donePart{}
	var buf []byte
	for _, p := range listed {
		if r, ok := byNum[p.Number]; ok && sameETag(r.ETag, p.ETag) && r.Size == p.Size {
			if sum, err := hex.DecodeString(r.Checksum); err == nil && (e.cs == nil || len(sum) > 0) {
				have[p.Number] = donePart{part: p, sum: sum}
				continue
			}
		}
		// Stored but not recorded: keep it if the source's bytes hash to
		// the part's ETag, so a crash never costs more than in-flight parts.
		if e.cs == nil || p.Size <= 0 || p.Size > t.obj.PartSize {
			continue
		}
		d, err := e.load(ctx, t.entry, f, int64(p.Number)*t.obj.PartSize, p.Size, &buf)
		if err != nil {
			return nil, err
		}
		if want := e.cs.PartETag(d.sum, p.Size); want != "" && sameETag(want, p.ETag) {
			have[p.Number] = donePart{part: p, sum: d.sum}
		}
	}
	e.opts.Logger.Info("resuming multipart upload", "path", t.obj.Path, "parts_done", len(have), "parts_listed", len(listed))
	return have, nil
}

// uploadPart loads one part and uploads it, verifying the part ETag when
// the Sink's part ETags are predictable.
func (e *Engine) uploadPart(ctx context.Context, u unit, buf *[]byte) partResult {
	d, err := e.load(ctx, u.t.entry, u.file, u.off, u.size, buf)
	if err != nil {
		return partResult{err: err}
	}
	defer d.close()
	sum := d.sum
	key := u.t.entry.ObjectKey()
	var part fs.Part
	err = e.retry(ctx, e.dst.IsPermanent, func() error {
		var err error
		part, err = e.dst.UploadPart(ctx, key, u.upload, u.part, d.reader(), u.size)
		if err != nil {
			return blame(ctx, d.file, fmt.Errorf("upload part %d of %s: %w", u.part, key, err))
		}
		if e.cs != nil {
			if want := e.cs.PartETag(sum, u.size); want != "" && !sameETag(want, part.ETag) {
				return blame(ctx, d.file, fmt.Errorf("verify part %d of %s: ETag %q, expected %q: %w", u.part, key, part.ETag, want, errMismatch))
			}
		}
		return nil
	})
	if err != nil {
		return partResult{err: settled(err)}
	}
	part.Number, part.Size = u.part, u.size
	e.bytesDone.Add(u.size)
	cp := catalog.Part{Path: u.t.obj.Path, Number: u.part, Size: u.size, ETag: part.ETag, Checksum: hex.EncodeToString(sum)}
	e.rec.add(func(w *catalog.Writer) error { return w.AddPart(cp) })
	return partResult{part: part, sum: sum}
}

// complete assembles the upload and verifies the object. A Complete whose
// answer was lost is detected by the upload having vanished while the
// object holds the expected bytes.
func (e *Engine) complete(ctx context.Context, key string, t task, parts []fs.Part, sums [][]byte) (fs.ObjectInfo, error) {
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	var info fs.ObjectInfo
	err := e.retry(ctx, e.dst.IsPermanent, func() error {
		var err error
		info, err = e.dst.CompleteMultipart(ctx, key, t.obj.UploadID, parts)
		if errors.Is(err, fs.ErrNotExist) {
			if head, herr := e.dst.Head(ctx, key); herr == nil {
				info, err = head, nil
			}
		}
		if err != nil {
			return fmt.Errorf("complete multipart upload of %s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return info, err
	}
	if err := e.verify(ctx, key, info, sums, t.entry.Size, t.obj.PartSize, true); err != nil {
		return info, permanent(err)
	}
	return info, nil
}
