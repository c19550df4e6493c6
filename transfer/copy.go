package transfer

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

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
	part Part
	sum  []byte
	err  error
}

// worker executes units with its own buffer, so memory stays bounded by
// Workers × part size whatever the job size.
func (e *Engine) worker(ctx context.Context) {
	var buf []byte
	for u := range e.units {
		if ctx.Err() != nil {
			if u.result != nil {
				u.result <- partResult{err: ctx.Err()}
			}
			continue
		}
		if int64(cap(buf)) < u.size {
			buf = make([]byte, u.size)
		}
		if u.part < 0 {
			e.copySmall(ctx, u.t, buf[:u.t.entry.Size])
			continue
		}
		u.result <- e.uploadPart(ctx, u, buf[:u.size])
	}
}

// copySmall copies an object with one Put and verifies it.
func (e *Engine) copySmall(ctx context.Context, t task, buf []byte) {
	t.obj.Attempts++
	if t.staleUpload != "" {
		_ = e.dst.AbortMultipart(ctx, t.entry.ObjectKey(), t.staleUpload)
	}
	sum, err := e.readSource(ctx, t.entry, nil, 0, buf)
	if err != nil {
		e.failOrStop(ctx, t, err)
		return
	}
	key := t.entry.ObjectKey()
	var info ObjectInfo
	err = e.retry(ctx, e.dst.IsPermanent, func() error {
		var err error
		info, err = e.dst.Put(ctx, key, bytes.NewReader(buf), int64(len(buf)))
		if err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		return e.verify(ctx, key, info, [][]byte{sum}, int64(len(buf)), 0, false)
	})
	if err != nil {
		e.failOrStop(ctx, t, err)
		return
	}
	e.bytesDone.Add(int64(len(buf)))
	e.succeed(t, info, e.checksum(info, sum))
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

// readSource fills buf with the bytes at off of ent (opening it when f is
// nil), retrying transient read errors, and returns the Sink's part hash.
func (e *Engine) readSource(ctx context.Context, ent fs.Entry, f fs.File, off int64, buf []byte) ([]byte, error) {
	path := ent.Path
	var sum []byte
	err := e.retry(ctx, nil, func() error {
		file := f
		if file == nil {
			var err error
			if file, err = e.open(ctx, ent); err != nil {
				return err
			}
			defer file.Close()
		}
		var h hash.Hash
		if e.cs != nil {
			h = e.cs.PartHash()
		}
		if err := e.readAt(ctx, file, off, buf, h); err != nil {
			return fmt.Errorf("read source %s: %w", path, err)
		}
		if h != nil {
			sum = h.Sum(nil)
		}
		return nil
	})
	return sum, err
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
			return permanent(fmt.Errorf("source is shorter than its listed size (changed while copying?)"))
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
func (e *Engine) verify(ctx context.Context, key string, info ObjectInfo, sums [][]byte, size, partSize int64, multipart bool) error {
	if e.cs != nil {
		if want := e.cs.ObjectETag(sums, size, partSize, multipart); want != "" {
			if !sameETag(want, info.ETag) {
				return fmt.Errorf("verify %s: destination ETag %q, expected %q", key, info.ETag, want)
			}
			return nil
		}
	}
	head, err := e.dst.Head(ctx, key)
	if err != nil {
		return fmt.Errorf("verify %s: %w", key, err)
	}
	if head.Size != size {
		return fmt.Errorf("verify %s: destination holds %d bytes, sent %d", key, head.Size, size)
	}
	return nil
}

// checksum renders what the catalog records as the verified checksum.
func (e *Engine) checksum(info ObjectInfo, sum []byte) string {
	if info.ETag != "" {
		return "etag:" + info.ETag
	}
	if sum != nil {
		return "part:" + hex.EncodeToString(sum)
	}
	return ""
}

// failOrStop records a failure unless the run itself is stopping, in which
// case the object stays unfinished (and the cursor before it) for the next run.
func (e *Engine) failOrStop(ctx context.Context, t task, err error) {
	if ctx.Err() != nil {
		return
	}
	e.fail(t, err)
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
