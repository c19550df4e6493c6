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

// putOnce is one attempt at a single-Put copy. The source must be the
// same version from the first byte read to the last: checked after the
// bytes were read and hashed (before anything is stored) and, when the
// body is streamed from the file again, after the Put.
func (c *Copier) putOnce(ctx context.Context, o *Object, buf *[]byte) (fs.ObjectInfo, []byte, error) {
	c.abortStale(ctx, o)
	f, err := c.open(ctx, o)
	if err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	defer f.Close()
	d, err := c.load(ctx, o, f, 0, o.Size, buf)
	if err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	defer d.close()
	if err := checkVersion(ctx, f); err != nil {
		return fs.ObjectInfo{}, nil, err
	}
	if o.Whole != nil {
		o.Whole.Write(d.buf)
	}
	info, err := c.put(ctx, o, f, d)
	return info, d.sum, err
}

// put stores d as the whole of o and verifies it; when d is streamed from
// f again, f is checked to be the same version after the Put.
func (c *Copier) put(ctx context.Context, o *Object, f fs.File, d partData) (fs.ObjectInfo, error) {
	var info fs.ObjectInfo
	err := c.retry(ctx, c.dst.IsPermanent, func() error {
		var err error
		info, err = c.dst.Put(ctx, o.Key, d.reader(), d.size)
		if err != nil {
			return blame(ctx, d.file, fmt.Errorf("put %s: %w", o.Key, err))
		}
		info, err = c.verify(ctx, o.Key, info, [][]byte{d.sum}, d.size, 0, false)
		return blame(ctx, d.file, err)
	})
	if err != nil {
		return info, settled(err)
	}
	if d.file != nil {
		if err := checkVersion(ctx, f); err != nil {
			return info, err
		}
	}
	return info, nil
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

// load prepares size bytes at off of o's source for upload (opening it when
// f is nil), retrying transient read errors, and hashes them for the Sink. A
// remote source is read into *buf (grown as needed) with one ReadAt; a
// local one is hashed in readChunk pieces and left in the file, unless it
// fits in one piece: then the bytes that were hashed are uploaded, and
// the file is read once.
func (c *Copier) load(ctx context.Context, o *Object, f fs.File, off, size int64, buf *[]byte) (partData, error) {
	local := o.Local
	if local && int64(cap(*buf)) < min(size, readChunk) {
		*buf = make([]byte, min(size, readChunk))
	} else if !local && int64(cap(*buf)) < size {
		*buf = make([]byte, size)
	}
	d := partData{off: off, size: size}
	err := c.readRetry(ctx, func() error {
		file := f
		if file == nil {
			var err error
			if file, err = o.Open(ctx); err != nil {
				return err
			}
		}
		var h hash.Hash
		if c.cs != nil {
			h = c.cs.PartHash(size)
			defer fs.CloseHash(h)
		}
		var err error
		if local {
			err = c.hashSection(ctx, file, off, size, (*buf)[:cap(*buf)], h)
		} else {
			err = c.readAt(ctx, file, off, (*buf)[:size], h)
		}
		if err != nil {
			if f == nil {
				file.Close()
			}
			return fmt.Errorf("read source %s: %w", o.Path, err)
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

// hashSection streams size bytes at off through h in pieces of scratch,
// through the bandwidth limiter.
func (c *Copier) hashSection(ctx context.Context, f io.ReaderAt, off, size int64, scratch []byte, h hash.Hash) error {
	for done := int64(0); done < size; {
		n := min(int64(len(scratch)), size-done)
		if err := c.readAt(ctx, f, off+done, scratch[:n], h); err != nil {
			return err
		}
		done += n
	}
	return nil
}

// readAt reads exactly len(buf) bytes at off with one ReadAt (one ranged
// GET for an object-store source), after taking the bytes from the
// bandwidth limiter, and hashes them into h when h is not nil.
func (c *Copier) readAt(ctx context.Context, f io.ReaderAt, off int64, buf []byte, h hash.Hash) error {
	if c.limiter != nil {
		for left := len(buf); left > 0; left -= c.limiter.Burst() {
			if err := c.limiter.WaitN(ctx, min(left, c.limiter.Burst())); err != nil {
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
// ETag when the Sink's ETags are predictable, the size otherwise. It
// returns info with Size set, and with the ETag Head reports when the
// answer had none.
func (c *Copier) verify(ctx context.Context, key string, info fs.ObjectInfo, sums [][]byte, size, partSize int64, multipart bool) (fs.ObjectInfo, error) {
	info.Size = size
	if c.cs != nil {
		if want := c.cs.ObjectETag(sums, size, partSize, multipart); want != "" {
			if !sameETag(want, info.ETag) {
				return info, fmt.Errorf("verify %s: destination ETag %q, expected %q: %w", key, info.ETag, want, ErrMismatch)
			}
			return info, nil
		}
	}
	head, err := c.dst.Head(ctx, key)
	if err != nil {
		return info, fmt.Errorf("verify %s: %w", key, err)
	}
	if head.Size != size {
		return info, fmt.Errorf("verify %s: destination holds %d bytes, sent %d: %w", key, head.Size, size, ErrMismatch)
	}
	if info.ETag == "" {
		info.ETag = head.ETag
	}
	return info, nil
}

// checksum renders what the catalog records as the verified checksum.
func checksum(info fs.ObjectInfo, sum []byte) string {
	if info.ETag != "" {
		return "etag:" + info.ETag
	}
	if sum != nil {
		return "part:" + hex.EncodeToString(sum)
	}
	return ""
}

// ErrMismatch marks a destination that does not hold what was sent.
var ErrMismatch = errors.New("checksum mismatch")

// settled turns a mismatch that outlived the quick retries into a
// permanent error: the object fails rather than being retried for minutes.
func settled(err error) error {
	if errors.Is(err, ErrMismatch) {
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
