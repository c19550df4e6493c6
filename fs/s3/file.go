package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/fs"
)

// Open opens the object at path for ranged reads. It heads the object once
// for its size, ETag and version; every ReadAt then fetches exactly its
// range pinned to that version (VersionId when the bucket is versioned,
// If-Match on the ETag otherwise), so an object replaced while open fails
// with PreconditionFailed instead of mixing two versions. A path that is
// only a directory gives fs.ErrIsDir. When a file and a directory share a
// name, Open of the plain name opens the file (the path Walk yields).
func (s *Store) Open(ctx context.Context, p string) (fs.File, error) {
	key, _, err := s.keyOf(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		err = s.wrap("open", s.full(key), err)
		if errors.Is(err, fs.ErrNotExist) {
			if ok, derr := s.dirExists(ctx, key); derr == nil && ok {
				return nil, fmt.Errorf("open %q: %w", p, fs.ErrIsDir)
			}
		}
		return nil, err
	}
	f := &file{s: s, key: s.full(key), size: aws.ToInt64(out.ContentLength), etag: aws.ToString(out.ETag)}
	f.life, f.cancel = context.WithCancel(context.Background())
	if v := aws.ToString(out.VersionId); v != "" && v != "null" {
		f.version = v
	}
	return f, nil
}

// OpenEntry opens the object Walk or ReadDir described as e without a
// HEAD: e's Size and ETag are trusted, and reads are pinned to that ETag
// (and version) as Open pins them, so a replaced object fails to read.
func (s *Store) OpenEntry(ctx context.Context, e fs.Entry) (fs.File, error) {
	if e.IsDir() {
		return nil, fmt.Errorf("open %q: %w", e.Path, fs.ErrIsDir)
	}
	f := &file{s: s, key: s.full(e.ObjectKey()), size: e.Size}
	if e.ETag != "" {
		f.etag = `"` + strings.Trim(e.ETag, `"`) + `"`
	}
	if _, v, ok := strings.Cut(e.Version, "@"); ok && v != "" && v != "null" {
		f.version = v
	}
	f.life, f.cancel = context.WithCancel(context.Background())
	return f, nil
}

// file is an open object. Its fields never change, so ReadAt is safe for
// concurrent use; each call is one GetObject. Open's context is not kept
// (fs.File.ReadAt takes none): reads run under the file's own lifetime
// context, which Close cancels, so Close interrupts reads in flight.
type file struct {
	s       *Store
	key     string // bucket key
	size    int64
	etag    string // quoted, as the store sent it
	version string
	life    context.Context
	cancel  context.CancelFunc
}

var _ fs.File = (*file)(nil)

// ReadAt reads len(p) bytes at off with one ranged GetObject (a wire
// request)
// ("bytes=off-end"). Reads reaching the end of the object return io.EOF
// with the bytes that exist; a read at or past the end returns 0, io.EOF
// without a request.
//
// The response body streams straight into p (no intermediate buffer), and
// is read to its end so that the HTTP transport returns the connection to
// its pool: a sequence of reads, or a few at once, reuses a few
// connections. A response that does not answer the range asked for (a
// server that ignored Range, or sent more bytes) is an error, never bytes
// from the wrong offset.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s/%s: negative offset %d", f.s.bucket, f.key, off)
	}
	if err := f.life.Err(); err != nil {
		return 0, fmt.Errorf("read %s/%s: file closed: %w", f.s.bucket, f.key, err)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= f.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), f.size-off))
	var q url.Values
	// identity: net/http would otherwise ask for gzip and undo it, and
	// the bytes could no longer be checked against the range.
	hdr := http.Header{"Range": {fmt.Sprintf("bytes=%d-%d", off, off+int64(n)-1)}, "Accept-Encoding": {"identity"}}
	if f.version != "" {
		q = url.Values{"versionId": {f.version}}
	} else if f.etag != "" {
		hdr.Set("If-Match", f.etag)
	}
	resp, err := f.s.wire.do(f.life, http.MethodGet, f.s.wire.objectURL(f.key, q), nil, 0, nil, hdr)
	if err != nil {
		return 0, f.s.wrap("read", f.key, err)
	}
	defer resp.Body.Close()
	if err := checkRange(resp, off, int64(n)); err != nil {
		return 0, fmt.Errorf("read %s/%s at %d: %w", f.s.bucket, f.key, off, err)
	}
	got, err := io.ReadFull(resp.Body, p[:n])
	if err != nil {
		return got, fmt.Errorf("read %s/%s at %d: %w", f.s.bucket, f.key, off, err)
	}
	var extra [1]byte
	if m, _ := resp.Body.Read(extra[:]); m != 0 {
		return 0, fmt.Errorf("read %s/%s at %d: the store sent more than the %d bytes asked for", f.s.bucket, f.key, off, n)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// checkRange verifies that a GetObject response carries exactly the n
// bytes at off: its Content-Range starts at off, or, when it has none (a
// plain 200), the request was for the whole object.
func checkRange(resp *http.Response, off, n int64) error {
	if cr := resp.Header.Get("Content-Range"); cr != "" {
		var first, last int64
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/", &first, &last); err != nil || first != off || last != off+n-1 {
			return fmt.Errorf("asked for bytes %d-%d, got range %q", off, off+n-1, cr)
		}
		return nil
	}
	if off != 0 || (resp.ContentLength >= 0 && resp.ContentLength != n) {
		return fmt.Errorf("asked for bytes %d-%d, got a response without Content-Range", off, off+n-1)
	}
	return nil
}

// Close ends the file: reads in flight are interrupted and later reads
// fail. A file holds no connection between reads. Closing twice is fine.
func (f *file) Close() error {
	f.cancel()
	return nil
}
