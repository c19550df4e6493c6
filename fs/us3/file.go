package us3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// Open opens the object at path for ranged reads. The object is the one of
// key fs.PathToKey(path) (so a Walk path opens its object even when a
// directory shares its name), or, for fs.ClashName(name), the file name.
// A path that is only a directory gives an error wrapping fs.ErrIsDir.
func (s *Store) Open(ctx context.Context, p string) (fs.File, error) {
	if p == "" {
		return nil, fmt.Errorf("open %q: %w", p, fs.ErrIsDir)
	}
	t, err := s.resolve(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	full := s.fullKey(t.rel)
	resp, err := s.head(ctx, full)
	if errors.Is(err, fs.ErrNotExist) && !t.clash {
		if isDir, derr := s.dirExists(ctx, t.rel); derr == nil && isDir {
			return nil, fmt.Errorf("open %q: %w", p, fs.ErrIsDir)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	return &file{s: s, key: full, size: resp.ContentLength, etag: etagOf(resp.Header)}, nil
}

// OpenEntry opens the object Walk or ReadDir described as e without a HEAD:
// e's Size and ETag are trusted, and reads fail if the ETag changed since.
func (s *Store) OpenEntry(ctx context.Context, e fs.Entry) (fs.File, error) {
	if e.IsDir() {
		return nil, fmt.Errorf("open %q: %w", e.Path, fs.ErrIsDir)
	}
	return &file{s: s, key: s.fullKey(e.ObjectKey()), size: e.Size, etag: strings.Trim(e.ETag, `"`)}, nil
}

// file is an open object: every ReadAt is one signed ranged GET, so
// concurrent reads at any offsets are independent requests.
type file struct {
	s    *Store
	key  string
	size int64
	etag string
}

var _ fs.File = (*file)(nil)

// ReadAt reads len(p) bytes at off with GET and "Range: bytes=off-end".
// io.ReaderAt has no context: a read whose body stops moving is abandoned
// after the stall timeout (see Store.do) instead. It returns io.EOF when the read reaches past the end of the object, and
// an error when the object changed (its ETag differs) since Open.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %q: negative offset %d", f.key, off)
	}
	if off >= f.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	want := min(int64(len(p)), f.size-off)
	end := off + want - 1
	h := http.Header{}
	h.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(end, 10))
	op := "get object"
	resp, err := f.s.do(context.Background(), call{op: op, method: http.MethodGet, key: f.key, header: h, size: -1})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if et := etagOf(resp.Header); f.etag != "" && et != "" && et != f.etag {
		return 0, &Error{Op: op, Key: f.key, Err: fmt.Errorf("object changed since open (ETag %s, was %s): %w", et, f.etag, fs.ErrChanged)}
	}
	body := io.Reader(resp.Body)
	if resp.StatusCode == http.StatusOK && off > 0 {
		// The server ignored Range: skip to off.
		if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
			return 0, &Error{Op: op, Key: f.key, Err: fmt.Errorf("skip to offset %d: %w", off, err)}
		}
	}
	n, err := io.ReadFull(body, p[:want])
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return n, &Error{Op: op, Key: f.key, Err: fmt.Errorf("read %d bytes at %d: %w", want, off, err)}
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases nothing: reads hold no connection between calls.
func (f *file) Close() error { return nil }
