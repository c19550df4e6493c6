package transfer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ferry-project/ferry/fs"
)

type donePart struct {
	part fs.Part
	sum  []byte
}

// multipartOnce is one attempt at a multipart copy of o: it resumes o's
// upload (uploading only the parts the destination lacks) or starts a new
// one, recorded by the Journal before the first part moves, and sends the
// parts on the workers. o.have holds the parts already in the upload
// across attempts (nil before the upload is looked at); the source is
// checked to be the version it was opened as after the last part and
// before the upload is completed, so a completed object is always of one
// version.
func (c *Copier) multipartOnce(ctx context.Context, o *Object) (fs.ObjectInfo, error) {
	c.abortStale(ctx, o)
	f, err := c.open(ctx, o)
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	defer f.Close()

	if o.have == nil {
		h, err := c.resume(ctx, o, f)
		if err != nil {
			return fs.ObjectInfo{}, err
		}
		o.have = h
		if o.UploadID != "" && o.Journal != nil {
			o.Journal.Resumed(o)
		}
		for _, p := range h {
			c.opts.Progress(p.part.Size)
		}
	}
	if o.UploadID == "" {
		if err := c.create(ctx, o, o.Size); err != nil {
			return fs.ObjectInfo{}, err
		}
	}

	size, ps := o.Size, o.PartSize
	n := int((size + ps - 1) / ps)
	var todo []int
	for i := 0; i < n; i++ {
		if h, ok := o.have[i]; !ok || h.part.Size != min(ps, size-int64(i)*ps) {
			delete(o.have, i)
			todo = append(todo, i)
		}
	}
	if o.Whole != nil && len(todo) < n {
		return fs.ObjectInfo{}, permanent(fmt.Errorf("copy %s: a whole-object hash needs every part read", o.Path))
	}
	// Parts that outlive their quick retries go round again, later, while
	// the object's retry time lasts; their upload and the other parts stay.
	for round := 0; len(todo) > 0; round++ {
		failed, err := c.sendParts(ctx, o, f, todo)
		if err != nil {
			return fs.ObjectInfo{}, err
		}
		if len(failed) == 0 {
			break
		}
		if o.Whole != nil || o.Deadline.IsZero() {
			return fs.ObjectInfo{}, failed[0].err
		}
		wait := backoff(c.opts.Retry.Base, round)
		if time.Now().Add(wait).After(o.Deadline) {
			return fs.ObjectInfo{}, fmt.Errorf("%w (still failing after %s of retries)", failed[0].err, c.opts.ObjectRetryTime)
		}
		c.opts.Retried(len(failed))
		c.opts.Logger.Info("parts retried later", "path", o.Path, "parts", len(failed), "err", failed[0].err, "in", wait.Round(time.Millisecond))
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
	return c.complete(ctx, o, n)
}

// create starts a new upload for o (size -1: unknown) and records it.
func (c *Copier) create(ctx context.Context, o *Object, size int64) error {
	ps := c.PartSize(size)
	hint := size
	if hint < 0 {
		// An upper bound for Sinks that check it: the most it can hold.
		hint = ps * int64(max(c.dst.Limits().MaxParts, 1))
	}
	var up fs.Upload
	err := c.retry(ctx, c.dst.IsPermanent, func() error {
		var err error
		up, err = c.dst.CreateMultipart(ctx, o.Key, hint, ps)
		return err
	})
	if err != nil {
		return fmt.Errorf("start multipart upload of %s: %w", o.Key, err)
	}
	if up.PartSize <= 0 {
		up.PartSize = ps
	}
	o.UploadID, o.PartSize = up.ID, up.PartSize
	o.have = map[int]donePart{}
	if o.Journal != nil {
		if err := o.Journal.Started(ctx, o); err != nil {
			return err // the run is stopping; the upload stays recorded or unstarted
		}
	}
	return nil
}

// failedPart is a part whose upload outlived its quick retries.
type failedPart struct {
	n   int
	err error
}

type partResult struct {
	n    int // the part's number, also when it failed
	part fs.Part
	sum  []byte
	err  error
}

// sendParts uploads the parts todo of o's upload on the workers, adding
// each finished one to o.have. It returns the parts that failed with a
// transient error, or the first other error (a permanent one, a changed
// source, a stopping run) once every part sent has come back. With
// o.Whole, the parts are hashed into it in order (see order).
func (c *Copier) sendParts(ctx context.Context, o *Object, f fs.File, todo []int) ([]failedPart, error) {
	size, ps := o.Size, o.PartSize
	var seq *order
	pctx := ctx
	if o.Whole != nil {
		var cancel context.CancelFunc
		pctx, cancel = context.WithCancel(ctx)
		defer cancel()
		seq = newOrder(o.Whole, todo[0], cancel)
	}
	results := make(chan partResult, len(todo))
	var failed []failedPart
	var firstErr error
	take := func(r partResult) {
		switch {
		case r.err == nil:
			o.have[r.part.Number] = donePart{part: r.part, sum: r.sum}
		case seq != nil && firstErr == nil:
			firstErr = r.err
			seq.fail()
		case firstErr == nil && (ctx.Err() != nil || isPermanent(r.err)):
			firstErr = r.err
		case firstErr == nil:
			failed = append(failed, failedPart{n: r.n, err: r.err})
		}
	}
	// The source reads in order only: one part at a time, unless the parts
	// are read in order anyway (o.Whole) while earlier ones upload.
	oneByOne := o.Sequential && seq == nil
	pending := 0
	for _, i := range todo {
		if firstErr != nil || ctx.Err() != nil {
			break
		}
		off := int64(i) * ps
		p := part{n: i, off: off, size: min(ps, size-off), file: f}
		c.Go(pctx, func(buf *[]byte) {
			results <- c.uploadPart(pctx, o, p, seq, buf)
		}, func() {
			results <- partResult{n: i, err: stopped(pctx)}
		})
		pending++
		if oneByOne {
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
	if oneByOne && len(failed) > 0 {
		// Later parts were not sent: they go round with the failed one.
		seen := map[int]bool{}
		for _, fp := range failed {
			seen[fp.n] = true
		}
		for _, i := range todo {
			if _, ok := o.have[i]; !ok && !seen[i] {
				failed = append(failed, failedPart{n: i, err: failed[0].err})
			}
		}
	}
	return failed, nil
}

// part is one part to upload: at off of file, or data already read.
type part struct {
	n         int
	off, size int64
	file      fs.File
	data      []byte
}

// resume returns the parts already stored for o's recorded upload, or
// clears o's upload when the destination no longer knows it. Parts the
// destination holds but the Journal missed (a crash before the record was
// committed) are kept only if their bytes re-read from the source hash to
// the part's ETag; others are uploaded again.
func (c *Copier) resume(ctx context.Context, o *Object, f fs.File) (map[int]donePart, error) {
	if o.UploadID == "" {
		return nil, nil
	}
	if o.Journal == nil || o.Whole != nil {
		o.Stale, o.UploadID, o.PartSize = o.UploadID, "", 0
		c.abortStale(ctx, o)
		return nil, nil
	}
	var listed []fs.Part
	err := c.retry(ctx, c.dst.IsPermanent, func() error {
		var err error
		listed, err = c.dst.ListParts(ctx, o.Key, o.UploadID)
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		o.UploadID, o.PartSize = "", 0
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", o.Key, err)
	}
	recorded, err := o.Journal.Parts(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("read recorded parts of %s: %w", o.Path, err)
	}
	byNum := map[int]RecordedPart{}
	for _, p := range recorded {
		byNum[p.Number] = p
	}
	have := map[int]donePart{}
	var buf []byte
	for _, p := range listed {
		if r, ok := byNum[p.Number]; ok && sameETag(r.ETag, p.ETag) && r.Size == p.Size {
			if sum, err := hex.DecodeString(r.Checksum); err == nil && (c.cs == nil || len(sum) > 0) {
				have[p.Number] = donePart{part: p, sum: sum}
				continue
			}
		}
		// Stored but not recorded: keep it if the source's bytes hash to
		// the part's ETag, so a crash never costs more than in-flight parts.
		if c.cs == nil || p.Size <= 0 || p.Size > o.PartSize {
			continue
		}
		d, err := c.load(ctx, o, f, int64(p.Number)*o.PartSize, p.Size, &buf)
		if err != nil {
			return nil, err
		}
		if want := c.cs.PartETag(d.sum, p.Size); want != "" && sameETag(want, p.ETag) {
			have[p.Number] = donePart{part: p, sum: d.sum}
		}
	}
	c.opts.Logger.Info("resuming multipart upload", "path", o.Path, "parts_done", len(have), "parts_listed", len(listed))
	return have, nil
}

// uploadPart loads one part (unless p.data holds it) and uploads it,
// verifying the part ETag when the Sink's part ETags are predictable.
// With seq (o.Whole), the part is hashed in order and its buffer kept
// until it is, so the next unit does not overwrite it.
func (c *Copier) uploadPart(ctx context.Context, o *Object, p part, seq *order, buf *[]byte) partResult {
	r := c.sendPart(ctx, o, p, seq, buf)
	if r.err != nil && seq != nil {
		seq.fail()
	}
	return r
}

func (c *Copier) sendPart(ctx context.Context, o *Object, p part, seq *order, buf *[]byte) partResult {
	var d partData
	if p.data != nil {
		d = partData{buf: p.data, size: p.size}
		if c.cs != nil {
			d.sum = fs.SumPart(c.cs, p.data)
		}
	} else {
		if seq != nil && o.Sequential {
			if err := seq.turn(ctx, p.n); err != nil {
				return partResult{n: p.n, err: err}
			}
		}
		var err error
		if d, err = c.load(ctx, o, p.file, p.off, p.size, buf); err != nil {
			return partResult{n: p.n, err: err}
		}
		defer d.close()
	}
	if seq != nil {
		seq.ready(p.n, d.buf)
	}
	var got fs.Part
	err := c.retry(ctx, c.dst.IsPermanent, func() error {
		var err error
		got, err = c.dst.UploadPart(ctx, o.Key, o.UploadID, p.n, d.reader(), p.size)
		if err != nil {
			return blame(ctx, d.file, fmt.Errorf("upload part %d of %s: %w", p.n, o.Key, err))
		}
		if c.cs != nil {
			if want := c.cs.PartETag(d.sum, p.size); want != "" && !sameETag(want, got.ETag) {
				return blame(ctx, d.file, fmt.Errorf("verify part %d of %s: ETag %q, expected %q: %w", p.n, o.Key, got.ETag, want, ErrMismatch))
			}
		}
		return nil
	})
	if err != nil {
		return partResult{n: p.n, err: settled(err)}
	}
	if seq != nil {
		if err := seq.wait(ctx, p.n); err != nil {
			return partResult{n: p.n, err: err}
		}
	}
	got.Number, got.Size = p.n, p.size
	c.opts.Progress(p.size)
	if o.Journal != nil {
		o.Journal.Part(o, got, d.sum)
	}
	return partResult{n: p.n, part: got, sum: d.sum}
}

// complete assembles parts 0..n-1 of o's upload and verifies the object.
// A Complete whose answer was lost is detected by the upload having
// vanished while the object holds the expected bytes.
func (c *Copier) complete(ctx context.Context, o *Object, n int) (fs.ObjectInfo, error) {
	parts := make([]fs.Part, n)
	sums := make([][]byte, n)
	for i := range n {
		p, ok := o.have[i]
		if !ok {
			return fs.ObjectInfo{}, fmt.Errorf("complete multipart upload of %s: part %d missing", o.Key, i)
		}
		parts[i], sums[i] = p.part, p.sum
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	var size int64
	for _, p := range parts {
		size += p.Size
	}
	var info fs.ObjectInfo
	err := c.retry(ctx, c.dst.IsPermanent, func() error {
		var err error
		info, err = c.dst.CompleteMultipart(ctx, o.Key, o.UploadID, parts)
		if errors.Is(err, fs.ErrNotExist) {
			if head, herr := c.dst.Head(ctx, o.Key); herr == nil {
				info, err = head, nil
			}
		}
		if err != nil {
			return fmt.Errorf("complete multipart upload of %s: %w", o.Key, err)
		}
		return nil
	})
	if err != nil {
		return info, err
	}
	info, err = c.verify(ctx, o.Key, info, sums, size, o.PartSize, true)
	if err != nil {
		return info, permanent(err)
	}
	return info, nil
}
