package local

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	md5simd "github.com/minio/md5-simd"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/md5x"
)

// Sink stores objects as files under a local directory: key "a/b/c" becomes
// <root>/a/b/c. A file appears at its final name only complete (written to a
// temporary file in the same directory, fsynced, renamed). Multipart uploads
// are staged under <root>/.ferry-uploads/<uploadID>/, one file per part plus
// a manifest, so they survive a restart of the process.
//
// ETags follow S3's MD5 scheme (see Checksummer): Put and UploadPart report
// the hex MD5 of the bytes written, CompleteMultipart the hex MD5 of the
// concatenated part MD5s followed by "-<parts>". Head reports size and
// modification time only (ETag empty). A key ending in '/' (a folder
// marker) creates a directory. Sink is safe for concurrent use.
type Sink struct {
	root string
	md5  md5simd.Server // nil: crypto/md5 (SinkOptions.MD5)
	// staging orders creating an upload directory (read lock) before
	// removing the emptied staging directory (write lock).
	staging sync.RWMutex
}

var (
	_ fs.Sink        = (*Sink)(nil)
	_ fs.Checksummer = (*Sink)(nil)
)

// SinkOptions tune a Sink.
type SinkOptions struct {
	// MD5, when set, hashes objects and parts of 1 MiB and more (both the
	// engine's PartHash and the Sink's own hash of what it writes, see
	// fs/internal/md5x): a multi-buffer SIMD server, shared by the drivers
	// of a process and closed by whoever made it.
	MD5 md5simd.Server
}

// NewSink returns a Sink writing under root, creating root when missing.
func NewSink(root string) (*Sink, error) { return NewSinkWith(root, SinkOptions{}) }

// NewSinkWith is NewSink with options.
func NewSinkWith(root string, o SinkOptions) (*Sink, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open local sink %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("open local sink %q: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open local sink %q: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open local sink %q: %w", root, fs.ErrNotDir)
	}
	return &Sink{root: abs, md5: o.MD5}, nil
}

// Limits reports: single Put up to 64 MiB, parts of 1 MiB to 5 GiB, at most
// 10,000 parts.
func (s *Sink) Limits() fs.Limits {
	return fs.Limits{MaxSinglePut: 64 << 20, MinPartSize: 1 << 20, MaxPartSize: 5 << 30, MaxParts: 10000}
}

// Head describes the file at key; a missing file, or a directory at a key
// that does not end in '/', gives an error wrapping fs.ErrNotExist.
func (s *Sink) Head(ctx context.Context, key string) (fs.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("head %q: %w", key, err)
	}
	abs, err := checkKey(s.root, key)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("head: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("head %q: %w", key, mapErr(err))
	}
	if isMarker(key) != fi.IsDir() {
		return fs.ObjectInfo{}, fmt.Errorf("head %q: %v is in the way: %w", key, fi.Mode().Type(), fs.ErrNotExist)
	}
	size := fi.Size()
	if fi.IsDir() {
		size = 0
	}
	return fs.ObjectInfo{Key: key, Size: size, ModTime: fi.ModTime()}, nil
}

// Put writes exactly size bytes from r (read from its start) to key.
func (s *Sink) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) (fs.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	abs, err := checkKey(s.root, key)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("put: %w", err)
	}
	if isMarker(key) {
		return s.putMarker(key, abs, size)
	}
	if err := ensureParent(abs, key); err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("put: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("put %q: rewind source: %w", key, err)
	}
	h := md5x.New(s.md5, size)
	defer fs.CloseHash(h)
	tmp, err := writeTemp(ctx, filepath.Dir(abs), io.TeeReader(r, h), size)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	fi, err := commit(tmp, abs)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	return fs.ObjectInfo{Key: key, Size: size, ETag: hex.EncodeToString(h.Sum(nil)), ModTime: fi.ModTime()}, nil
}

// isMarker reports whether key is a folder marker ("dir/").
func isMarker(key string) bool { return len(key) > 0 && key[len(key)-1] == '/' }

// putMarker stores a folder marker as a directory.
func (s *Sink) putMarker(key, abs string, size int64) (fs.ObjectInfo, error) {
	if size != 0 {
		return fs.ObjectInfo{}, fmt.Errorf("put %q: %w: a key ending in '/' names a directory and must be empty, not %d bytes", key, ErrInvalidRequest, size)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) || errors.Is(err, syscall.ENOTDIR) {
			return fs.ObjectInfo{}, fmt.Errorf("put: %w: a file exists at or above directory key %q", ErrKeyConflict, key)
		}
		return fs.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	empty := md5.Sum(nil)
	return fs.ObjectInfo{Key: key, ETag: hex.EncodeToString(empty[:]), ModTime: fi.ModTime()}, nil
}

// writeTemp copies exactly size bytes of r into a new fsynced temporary
// file in dir and returns its path; on error nothing is left behind.
func writeTemp(ctx context.Context, dir string, r io.Reader, size int64) (string, error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("create temp file: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx: ctx, r: r}, size))
	if err == nil && n != size {
		err = fmt.Errorf("source ended after %d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write temp file: %w", err)
	}
	return f.Name(), nil
}

// commit renames the finished temporary file to its final name, makes the
// rename durable and returns the final file's info.
func commit(tmp, abs string) (os.FileInfo, error) {
	if err := os.Rename(tmp, abs); err != nil {
		os.Remove(tmp)
		if fi, serr := os.Lstat(abs); serr == nil && fi.IsDir() {
			return nil, fmt.Errorf("%w: a directory exists at %q", ErrKeyConflict, abs)
		}
		return nil, fmt.Errorf("rename into place: %w", err)
	}
	if err := syncDir(filepath.Dir(abs)); err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("stat written file: %w", err)
	}
	return fi, nil
}

// ctxReader stops a copy once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// IsPermanent reports true for invalid keys and requests, key conflicts,
// permission errors and anything not found (a missing object or upload).
func (s *Sink) IsPermanent(err error) bool {
	return errors.Is(err, ErrInvalidKey) || errors.Is(err, ErrKeyConflict) || errors.Is(err, ErrInvalidRequest) ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist)
}

// PartHash returns an MD5 hash: for a part of md5x.MinSIMD bytes or more
// one of the SinkOptions.MD5 server, which must be closed
// (fs.CloseHash), else crypto/md5.
func (s *Sink) PartHash(size int64) hash.Hash { return md5x.New(s.md5, size) }

// PartETag is the hex MD5 of the part.
func (s *Sink) PartETag(sum []byte, size int64) string { return hex.EncodeToString(sum) }

// ObjectETag is the hex MD5 for a Put object, and for a multipart object
// the hex MD5 of the concatenated part MD5s followed by "-<parts>".
func (s *Sink) ObjectETag(sums [][]byte, size, partSize int64, multipart bool) string {
	if !multipart {
		if len(sums) != 1 {
			return ""
		}
		return hex.EncodeToString(sums[0])
	}
	return multipartETag(sums)
}

// multipartETag computes S3's multipart ETag from the part MD5s.
func multipartETag(sums [][]byte) string {
	h := md5.New()
	for _, s := range sums {
		h.Write(s)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(sums))
}

var _ fs.Deleter = (*Sink)(nil)

// Delete removes the object at key (fs.Deleter); a key that holds nothing
// is not an error. A key the sink would refuse to write, or one naming its
// own staging or temporary files, is refused.
func (s *Sink) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	abs, err := checkKey(s.root, key)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if strings.HasPrefix(path.Base(strings.TrimSuffix(key, "/")), tempPrefix) {
		return fmt.Errorf("delete %q: %w: a temporary file of the sink", key, ErrInvalidKey)
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	return nil
}
