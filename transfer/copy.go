package transfer

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// limiterBurst is the largest bandwidth-limiter grant.
const limiterBurst = 1 << 20

// unit is what a worker executes: a whole small object (part < 0) or one
// part of a multipart upload.
type unit struct {
	t      task
	part   int
	off    int64
	size   int64
	file   fs.File
	upload string
	result chan<- partResult
}

type partResult struct {
	n    int // the part's number, also when it failed
	part fs.Part
	sum  []byte
	err  error
}

// worker executes units with its own buffer, so memory stays bounded by
// Workers × part size whatever the job size (and by Workers × readChunk
// for local sources, whose parts are never held in memory).
func (e *Engine) worker(ctx context.Context) {
	var buf []byte
	for u := range e.units {
		if ctx.Err() != nil {
			if u.result != nil {
				u.result <- partResult{n: u.part, err: ctx.Err()}
			} else {
				e.inflight.Done() // left unfinished for the next run
			}
			continue
		}
		if u.part < 0 {
			e.copySmall(ctx, u.t, &buf)
			continue
		}
		r := e.uploadPart(ctx, u, &buf)
		r.n = u.part
		u.result <- r
	}
}

// copySmall copies an object with one Put and verifies it, trying again as
// next decides.
func (e *Engine) copySmall(ctx context.Context, t task, buf *[]byte) {
	e.begin(&t)
	for {
		info, sum, err := e.putOnce(ctx, &t, buf)
		if err == nil {
			e.bytesDone.Add(t.entry.Size)
			e.succeed(t, info, e.checksum(info, sum))
			return
		}
		d := e.next(ctx, &t, err)
		switch {
		case d.stop:
			e.inflight.Done()
			return
		case d.final != nil:
			e.fail(t, d.final)
			return
		case d.wait > 0 || !e.singlePut(t.entry.Size):
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

// putOnce is one attempt at a single-Put copy. The source must be the
// same version from the first byte read to the last: checked after the
// bytes were read and hashed (before anything is stored) and, when the
// body is streamed from the file again, after the Put.
func (e *Engine) putOnce(ctx context.Context, t *task, buf *[]byte) (fs.ObjectInfo, []byte, error) {
	t.obj.Attempts++
	key := t.entry.ObjectKey()
	if t.staleUpload != "" {
		_ = e.dst.AbortMultipart(ctx, key, t.staleUpload)
		t.staleUpload = ""
	}
	f, err := e.openRetry(ctx, t.entry)
	if err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	defer f.Close()
	d, err := e.load(ctx, t.entry, f, 0, t.entry.Size, buf)
	if err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	defer d.close()
	if err := checkVersion(ctx, f); err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	var info fs.ObjectInfo
	err = e.retry(ctx, e.dst.IsPermanent, func() error {
		var err error
		info, err = e.dst.Put(ctx, key, d.reader(), d.size)
		if err != nil {
			return blame(ctx, d.file, fmt.Errorf("put %s: %w", key, err))
		}
		return blame(ctx, d.file, e.verify(ctx, key, info, [][]byte{d.sum}, d.size, 0, false))
	})
	if err != nil {
		return info, nil, settled(err)
	}
	if d.file != nil {
		if err := checkVersion(ctx, f); err != nil {
			return info, nil, err
		}
	}
	return info, d.sum, nil
}

// openRetry opens the walked entry, retrying transient errors.
func (e *Engine) openRetry(ctx context.Context, ent fs.Entry) (fs.File, error) {
	var f fs.File
	err := e.retry(ctx, nil, func() error {
		var err error
		f, err = e.open(ctx, ent)
		return err
	})
	return f, err
}

// partData is one part (or a whole small object) ready to upload, with the
// Sink's hash of its bytes: held in memory, or — for a local source, where
// reading again costs no request — a section of the open file that every
// attempt reads afresh, so no part is ever held in memory.
type partData struct {
	buf       []byte
	file      fs.File
	off, size int64
	sum       []byte
	owned     bool // file was opened for this part and is closed by close
}

// reader returns a fresh body over the part's bytes, carrying their sum
// (SummedBody) when there is one.
func (d partData) reader() io.ReadSeeker {
	var r io.ReadSeeker
	if d.file != nil {
		r = io.NewSectionReader(d.file, d.off, d.size)
	} else {
		r = bytes.NewReader(d.buf)
	}
	if d.sum == nil {
		return r
	}
	return summedBody{ReadSeeker: r, sum: d.sum}
}

// summedBody is a body with the Sink's hash of its bytes.
type summedBody struct {
	io.ReadSeeker
	sum []byte
}

var _ fs.SummedBody = summedBody{}

func (b summedBody) PartSum() []byte { return b.sum }

func (d partData) close() {
	if d.owned {
		d.file.Close()
	}
}

// readChunk is the size of one streaming read of a local source.
const readChunk = 1 << 20

// load prepares size bytes at off of ent for upload (opening ent when f is
// nil), retrying transient read errors, and hashes them for the Sink. A
// remote source is read into *buf (grown as needed) with one ReadAt; a
// local one is hashed in readChunk pieces and left in the file, unless it
// fits in one piece: then the bytes that were hashed are uploaded, and
// the file is read once.
func (e *Engine) load(ctx context.Context, ent fs.Entry, f fs.File, off, size int64, buf *[]byte) (partData, error) {
	local := e.isLocal()
	if local && int64(cap(*buf)) < min(size, readChunk) {
		*buf = make([]byte, min(size, readChunk))
	} else if !local && int64(cap(*buf)) < size {
		*buf = make([]byte, size)
	}
	d := partData{off: off, size: size}
	err := e.retry(ctx, nil, func() error {
		file := f
		if file == nil {
			var err error
			if file, err = e.open(ctx, ent); err != nil {
				return err
			}
		}
		var h hash.Hash
		if e.cs != nil {
			h = e.cs.PartHash(size)
			defer fs.CloseHash(h)
		}
		var err error
		if local {
			err = e.hashSection(ctx, file, off, size, (*buf)[:cap(*buf)], h)
		} else {
			err = e.readAt(ctx, file, off, (*buf)[:size], h)
		}
		if err != nil {
			if f == nil {
				file.Close()
			}
			return fmt.Errorf("read source %s: %w", ent.Path, err)
		}
		if h != nil {
			d.sum = h.Sum(nil)
		}
		if local && size > int64(cap(*buf)) {
			d.file, d.owned = file, f == nil
			return nil
		}
		if f == nil {
			file.Close()
		}
		d.buf = (*buf)[:size]
		return nil
	})
	return d, err
}

// isLocal reports whether the source's files are local (fs.Local).
func (e *Engine) isLocal() bool {
	l, ok := e.src.(fs.Local)
	return ok && l.IsLocal()
}

// hashSection streams size bytes at off through h in pieces of scratch,
// through the bandwidth limiter.
func (e *Engine) hashSection(ctx context.Context, f io.ReaderAt, off, size int64, scratch []byte, h hash.Hash) error {
	for done := int64(0); done < size; {
		n := min(int64(len(scratch)), size-done)
		if err := e.readAt(ctx, f, off+done, scratch[:n], h); err != nil {
			return err
		}
		done += n
	}
	return nil
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

// readAt reads exactly len(buf) bytes at off with one ReadAt (one ranged
// GET for an object-store source), after taking the bytes from the
// bandwidth limiter, and hashes them into h when h is not nil.
func (e *Engine) readAt(ctx context.Context, f io.ReaderAt, off int64, buf []byte, h hash.Hash) error {
	if e.limiter != nil {
		for left := len(buf); left > 0; left -= e.limiter.Burst() {
			if err := e.limiter.WaitN(ctx, min(left, e.limiter.Burst())); err != nil {
				return err
			}
		}
	}
	got, err := f.ReadAt(buf, off)
	if got < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			return fmt.Errorf("source is shorter than its listed size: %w", fs.ErrChanged)
		}
		return err
	}
	if h != nil {
		h.Write(buf)
	}
	return nil
}

// verify checks what the destination reports against what was sent: the
// ETag when the Sink's ETags are predictable, the size otherwise.
func (e *Engine) verify(ctx context.Context, key string, info fs.ObjectInfo, sums [][]byte, size, partSize int64, multipart bool) error {
	if e.cs != nil {
		if want := e.cs.ObjectETag(sums, size, partSize, multipart); want != "" {
			if !sameETag(want, info.ETag) {
				return fmt.Errorf("verify %s: destination ETag %q, expected %q: %w", key, info.ETag, want, errMismatch)
			}
			return nil
		}
	}
	head, err := e.dst.Head(ctx, key)
	if err != nil {
		return fmt.Errorf("verify %s: %w", key, err)
	}
	if head.Size != size {
		return fmt.Errorf("verify %s: destination holds %d bytes, sent %d: %w", key, head.Size, size, errMismatch)
	}
	return nil
}

// checksum renders what the catalog records as the verified checksum.
func (e *Engine) checksum(info fs.ObjectInfo, sum []byte) string {
	if info.ETag != "" {
		return "etag:" + info.ETag
	}
	if sum != nil {
		return "part:" + hex.EncodeToString(sum)
	}
	return ""
}

// errMismatch marks a destination that does not hold what was sent.
var errMismatch = errors.New("checksum mismatch")

// settled turns a mismatch that outlived the quick retries into a
// permanent error: the object fails rather than being retried for minutes.
func settled(err error) error {
	if errors.Is(err, errMismatch) {
		return permanent(err)
	}
	return err
}

func sameETag(a, b string) bool {
	trim := func(s string) string {
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			return s[1 : len(s)-1]
		}
		return s
	}
	return trim(a) == trim(b)
}
