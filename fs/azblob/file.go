package azblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ferry-project/ferry/fs"
)

// Open opens the blob at path for ranged reads. It reads the blob's
// properties once for its size, ETag and tier; every ReadAt then fetches
// exactly its range with If-Match on that ETag, so a blob replaced while
// open fails with fs.ErrChanged instead of mixing two versions. A blob in
// the Archive tier fails at once with an error wrapping ErrArchived that
// names the tier. A path that is only a directory (or a container) gives
// fs.ErrIsDir.
func (s *Store) Open(ctx context.Context, p string) (fs.File, error) {
	if p == "" {
		return nil, fmt.Errorf("open %q: %w", p, fs.ErrIsDir)
	}
	if s.bucket != nil {
		return s.bucket.open(ctx, p)
	}
	c, sub, _ := strings.Cut(p, "/")
	if !validContainer(c) {
		return nil, fmt.Errorf("open %q: %w", p, fs.ErrNotExist)
	}
	if sub == "" {
		if _, err := s.Stat(ctx, c); err != nil {
			return nil, fmt.Errorf("open %q: %w", p, err)
		}
		return nil, fmt.Errorf("open %q: a container: %w", p, fs.ErrIsDir)
	}
	f, err := s.open(c, "").open(ctx, sub)
	if err != nil {
		return nil, fmt.Errorf("in container %s: %w", c, err)
	}
	return f, nil
}

// open is Open within one bucket. When a file and a directory share a
// name, the plain name opens the file (the path Walk yields).
func (b *bucket) open(ctx context.Context, p string) (fs.File, error) {
	key, _, err := b.keyOf(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	e, err := b.head(ctx, key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if ok, derr := b.dirExists(ctx, key); derr == nil && ok {
				return nil, fmt.Errorf("open %q: %w", p, fs.ErrIsDir)
			}
		}
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	return b.openEntry(key, e)
}

// OpenEntry opens the blob Walk, ReadDir or Stat described as e without a
// request: e's Size and ETag (its Version) are trusted, and reads are
// pinned to that ETag as Open pins them. An entry of an archived blob
// fails at once with an error wrapping ErrArchived.
func (s *Store) OpenEntry(ctx context.Context, e fs.Entry) (fs.File, error) {
	if e.IsDir() {
		return nil, fmt.Errorf("open %q: %w", e.Path, fs.ErrIsDir)
	}
	b, key, err := s.locate(e.ObjectKey())
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", e.Path, err)
	}
	return b.openEntry(key, e)
}

// openEntry opens the blob at key as e describes it.
func (b *bucket) openEntry(key string, e fs.Entry) (fs.File, error) {
	if tier, status, ok := Archived(e); ok {
		what := "access tier " + tier
		if status != "" {
			what += ", " + status
		}
		return nil, fmt.Errorf("open %s (%s): %w", b.label(key), what, ErrArchived)
	}
	f := &file{b: b, key: key, cl: b.blob(key), size: e.Size, etag: etagOf(e)}
	f.life, f.cancel = context.WithCancel(context.Background())
	return f, nil
}

// file is an open blob. Its fields never change, so ReadAt is safe for
// concurrent use; each call is one ranged Get Blob. Open's context is not
// kept (fs.File.ReadAt takes none): reads run under the file's own
// lifetime context, which Close cancels.
type file struct {
	b      *bucket
	key    string
	cl     *blob.Client
	size   int64
	etag   string // unquoted; "" reads unpinned (an entry without ETag)
	life   context.Context
	cancel context.CancelFunc
}

var _ fs.File = (*file)(nil)

// ReadAt reads len(p) bytes at off with one Get Blob of exactly that
// range, If-Match the ETag the file was opened with. A blob replaced since
// gives an error wrapping fs.ErrChanged; one moved to the Archive tier an
// error wrapping ErrArchived. Reads reaching the end return io.EOF with the
// bytes that exist; a read at or past the end returns 0, io.EOF without a
// request. A response that does not carry exactly the range asked for is
// an error, never bytes from the wrong offset.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	name := f.b.label(f.key)
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", name, off)
	}
	if err := f.life.Err(); err != nil {
		return 0, fmt.Errorf("read %s: file closed: %w", name, err)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= f.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), f.size-off)
	opts := &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: n}}
	if f.etag != "" {
		opts.AccessConditions = &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: ptr(quoteETag(f.etag))}}
	}
	resp, err := f.cl.DownloadStream(f.life, opts)
	if err != nil {
		return 0, fmt.Errorf("read %s at %d: %w", name, off, wrap("get blob", name, err))
	}
	defer resp.Body.Close()
	if cr := deref(resp.ContentRange); cr != "" {
		var first, last int64
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/", &first, &last); err != nil || first != off || last != off+n-1 {
			return 0, fmt.Errorf("read %s: asked for bytes %d-%d, got range %q", name, off, off+n-1, cr)
		}
	} else if off != 0 || (resp.ContentLength != nil && *resp.ContentLength != n) {
		return 0, fmt.Errorf("read %s: asked for bytes %d-%d, got a response without Content-Range", name, off, off+n-1)
	}
	got, err := io.ReadFull(resp.Body, p[:n])
	if err != nil {
		return got, fmt.Errorf("read %s at %d: %w", name, off, &Error{Op: "get blob", Name: name, Err: redactErr(err)})
	}
	if n < int64(len(p)) {
		return got, io.EOF
	}
	return got, nil
}

// Close ends the file: reads in flight are interrupted and later reads
// fail. Closing twice is fine.
func (f *file) Close() error {
	f.cancel()
	return nil
}

// Checksum returns the blob's Content-MD5 as ("md5", hex) when it has one,
// and ("", "") when it has none (blobs committed from block lists usually
// have none): the MD5 is used when present and never assumed.
func (s *Store) Checksum(ctx context.Context, p string) (algo, hexsum string, err error) {
	e, err := s.Stat(ctx, p)
	if err != nil {
		return "", "", err
	}
	if e.IsDir() {
		return "", "", fmt.Errorf("checksum %q: %w", p, fs.ErrIsDir)
	}
	if e.ETag == "" {
		return "", "", nil
	}
	return "md5", e.ETag, nil
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
