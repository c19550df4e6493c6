package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ferry-project/ferry/fs"
)

// sizer is a File that learnt its size from its first read (an HTTP
// response's Content-Length): -1 when it did not.
type sizer interface{ Size() int64 }

// streamOnce is one attempt at copying o of unknown size, read as one
// stream in order: what fits in one Put is stored with one; anything
// longer becomes a multipart upload whose parts upload while the next
// ones are read. A stream is never resumed: nothing can be re-read.
func (c *Copier) streamOnce(ctx context.Context, o *Object) (fs.ObjectInfo, []byte, error) {
	if o.UploadID != "" {
		o.Stale, o.UploadID, o.PartSize, o.have = o.UploadID, "", 0, nil
	}
	c.abortStale(ctx, o)
	f, err := c.open(ctx, o)
	if err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	defer f.Close()
	limit := c.singleLimit()
	first, err := c.readFirst(ctx, f, limit+1)
	if err != nil {
		return fs.ObjectInfo{}, nil, fmt.Errorf("read source %s: %w", o.Path, err)
	}
	if n := len(first); int64(n) <= limit {
		d := partData{buf: first, size: int64(n)}
		if c.cs != nil {
			d.sum = fs.SumPart(c.cs, d.buf)
		}
		if o.Whole != nil {
			o.Whole.Write(d.buf)
		}
		if err := checkVersion(ctx, f); err != nil {
			return fs.ObjectInfo{}, nil, err
		}
		info, err := c.put(ctx, o, f, d)
		return info, d.sum, err
	}
	hint := int64(-1)
	if s, ok := f.(sizer); ok {
		hint = s.Size()
	}
	if err := c.create(ctx, o, hint); err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	count, err := c.streamParts(ctx, o, f, first)
	if err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	if err := checkVersion(ctx, f); err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	info, err := c.complete(ctx, o, count)
	return info, nil, err
}

// readNote is what reading one streamed part learnt.
type readNote struct {
	n   int64 // bytes of the part (less than the part size: the last)
	err error
}

// streamParts reads o's parts in order on the workers (part i is handed
// out once part i-1 was read) and uploads them in parallel; first holds
// the bytes read already, the start of the stream. It returns the number
// of parts once all are stored.
func (c *Copier) streamParts(ctx context.Context, o *Object, f fs.File, first []byte) (int, error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	ps := o.PartSize
	count := 0
	for i := 0; ; i++ {
		start := int64(i) * ps
		var prefix []byte
		if start < int64(len(first)) {
			prefix = first[start:min(int64(len(first)), start+ps)]
		}
		read := make(chan readNote, 1)
		wg.Add(1)
		c.Go(pctx, func(buf *[]byte) {
			defer wg.Done()
			r := c.streamPart(pctx, o, f, i, start, prefix, read, buf)
			switch {
			case r.err != nil:
				fail(r.err)
			case r.part.Size > 0:
				mu.Lock()
				o.have[i] = donePart{part: r.part, sum: r.sum}
				mu.Unlock()
			}
		}, func() {
			defer wg.Done()
			read <- readNote{err: stopped(pctx)}
			fail(stopped(pctx))
		})
		note := <-read
		if note.err != nil {
			break
		}
		if note.n > 0 {
			count = i + 1
		}
		if note.n < ps {
			break
		}
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return count, firstErr
}

// streamPart reads part n (at start: prefix, then the rest from f), feeds
// o.Whole, tells read, and uploads the part unless it is empty.
func (c *Copier) streamPart(ctx context.Context, o *Object, f fs.File, n int, start int64, prefix []byte, read chan<- readNote, buf *[]byte) partResult {
	ps := o.PartSize
	if int64(cap(*buf)) < ps {
		*buf = make([]byte, ps)
	}
	b := (*buf)[:ps]
	copy(b, prefix)
	var k int
	var err error
	if len(prefix) < len(b) {
		k, err = c.readUpTo(ctx, f, start+int64(len(prefix)), b[len(prefix):])
	}
	if err != nil {
		err = fmt.Errorf("read source %s: %w", o.Path, err)
		read <- readNote{err: err}
		return partResult{n: n, err: err}
	}
	b = b[:len(prefix)+k]
	if o.Whole != nil {
		o.Whole.Write(b)
	}
	read <- readNote{n: int64(len(b))}
	if len(b) == 0 {
		return partResult{n: n}
	}
	return c.uploadPart(ctx, o, part{n: n, size: int64(len(b)), data: b}, nil, nil)
}

// readFirst reads up to limit bytes from the start of f, in a buffer that
// grows from 64 KiB as the bytes come, so that a small object does not
// cost a whole part of memory.
func (c *Copier) readFirst(ctx context.Context, f io.ReaderAt, limit int64) ([]byte, error) {
	b := make([]byte, 0, min(limit, 64<<10))
	for {
		k, err := c.readUpTo(ctx, f, int64(len(b)), b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err != nil || len(b) < cap(b) || int64(len(b)) == limit {
			return b, err
		}
		nb := make([]byte, len(b), min(2*int64(cap(b)), limit))
		copy(nb, b)
		b = nb
	}
}

// readUpTo fills buf from f at off, or up to f's end; it returns the
// bytes read.
func (c *Copier) readUpTo(ctx context.Context, f io.ReaderAt, off int64, buf []byte) (int, error) {
	if c.limiter != nil {
		for left := len(buf); left > 0; left -= c.limiter.Burst() {
			if err := c.limiter.WaitN(ctx, min(left, c.limiter.Burst())); err != nil {
				return 0, err
			}
		}
	}
	n, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	return n, nil
}
