package transfer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// copyMultipart copies a large object part by part: it resumes the upload
// the catalog recorded when the object is unchanged (uploading only the
// parts the destination lacks), or starts a new one whose ID is durable in
// the catalog before the first part moves. Parts run on the shared workers.
func (e *Engine) copyMultipart(ctx context.Context, t task) {
	t.obj.Attempts++
	key := t.entry.ObjectKey()
	if t.staleUpload != "" {
		_ = e.dst.AbortMultipart(ctx, key, t.staleUpload)
	}
	var f fs.File
	err := e.retry(ctx, nil, func() error {
		var err error
		f, err = e.open(ctx, t.entry)
		return err
	})
	if err != nil {
		e.failOrStop(ctx, t, err)
		return
	}
	defer f.Close()

	have, err := e.resume(ctx, &t, f)
	if err != nil {
		e.failOrStop(ctx, t, err)
		return
	}
	if t.obj.UploadID == "" {
		var up Upload
		err := e.retry(ctx, e.dst.IsPermanent, func() error {
			var err error
			up, err = e.dst.CreateMultipart(ctx, key, t.entry.Size, e.partSize(t.entry.Size))
			return err
		})
		if err != nil {
			e.failOrStop(ctx, t, fmt.Errorf("start multipart upload of %s: %w", key, err))
			return
		}
		t.obj.UploadID, t.obj.PartSize, t.obj.State = up.ID, up.PartSize, catalog.StateCopying
		o := t.obj
		if err := e.rec.addSync(ctx, func(w *catalog.Writer) error { return w.PutObject(o) }); err != nil {
			return // the run is stopping; the upload stays recorded or unstarted
		}
	}

	size, ps := t.entry.Size, t.obj.PartSize
	n := int((size + ps - 1) / ps)
	sums := make([][]byte, n)
	parts := make([]Part, n)
	results := make(chan partResult, n)
	sequential := false
	if so, ok := e.src.(fs.SequentialOnly); ok {
		sequential = so.SequentialOnly(t.entry.Path)
	}
	pending := 0
	for i := 0; i < n; i++ {
		off := int64(i) * ps
		psize := min(ps, size-off)
		if h, ok := have[i]; ok && h.part.Size == psize {
			parts[i], sums[i] = h.part, h.sum
			e.bytesDone.Add(psize)
			continue
		}
		u := unit{t: t, part: i, off: off, size: psize, file: f, upload: t.obj.UploadID, result: results}
		select {
		case e.units <- u:
		case <-ctx.Done():
			i = n
			continue
		}
		pending++
		if sequential {
			// The source reads in order only: one part at a time.
			r := <-results
			pending--
			if r.err != nil {
				e.finishMultipartError(ctx, t, r.err)
				return
			}
			parts[r.part.Number], sums[r.part.Number] = r.part, r.sum
		}
	}
	var firstErr error
	for ; pending > 0; pending-- {
		r := <-results
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		parts[r.part.Number], sums[r.part.Number] = r.part, r.sum
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		e.finishMultipartError(ctx, t, firstErr)
		return
	}
	info, err := e.complete(ctx, key, t, parts, sums)
	if err != nil {
		e.finishMultipartError(ctx, t, err)
		return
	}
	e.succeed(t, info, e.checksum(info, nil))
}

// finishMultipartError ends a failed multipart copy: a stopping run keeps the
// upload to resume; a permanent failure aborts it so nothing is orphaned.
func (e *Engine) finishMultipartError(ctx context.Context, t task, err error) {
	if ctx.Err() != nil {
		return
	}
	_ = e.dst.AbortMultipart(context.WithoutCancel(ctx), t.entry.ObjectKey(), t.obj.UploadID)
	t.obj.UploadID = ""
	e.fail(t, err)
}

type donePart struct {
	part Part
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
	var listed []Part
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
	var part Part
	err = e.retry(ctx, e.dst.IsPermanent, func() error {
		var err error
		part, err = e.dst.UploadPart(ctx, key, u.upload, u.part, d.reader(), u.size)
		if err != nil {
			return fmt.Errorf("upload part %d of %s: %w", u.part, key, err)
		}
		if e.cs != nil {
			if want := e.cs.PartETag(sum, u.size); want != "" && !sameETag(want, part.ETag) {
				return fmt.Errorf("verify part %d of %s: ETag %q, expected %q", u.part, key, part.ETag, want)
			}
		}
		return nil
	})
	if err != nil {
		return partResult{err: err}
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
func (e *Engine) complete(ctx context.Context, key string, t task, parts []Part, sums [][]byte) (ObjectInfo, error) {
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	var info ObjectInfo
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
