package us3

import (
	"errors"

	"context"
	"github.com/ferry-project/ferry/fs"
	"io"
	"net/http"
	"time"
)

// blockSize is US3's ETag block and its documented multipart block size.
const blockSize = 4 << 20

// Limits reports US3's limits. MaxSinglePut is 4 MiB; larger objects go
// multipart, where the part size is the BlkSize the service returns from
// CreateMultipart (Min/MaxPartSize are advisory: 4 MiB, the documented value).
func (s *Store) Limits() fs.Limits {
	return fs.Limits{
		MaxSinglePut: blockSize,
		MinPartSize:  blockSize,
		MaxPartSize:  blockSize,
		MaxParts:     10000,
	}
}

// Head describes key (HEAD). A missing object gives an error wrapping
// fs.ErrNotExist.
func (s *Store) Head(ctx context.Context, key string) (fs.ObjectInfo, error) {
	resp, err := s.head(ctx, s.fullKey(key))
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	return fs.ObjectInfo{
		Key:     key,
		Size:    resp.ContentLength,
		ETag:    etagOf(resp.Header),
		ModTime: modTimeOf(resp.Header),
	}, nil
}

// head sends HEAD for a full key; the returned response has no body.
func (s *Store) head(ctx context.Context, full string) (*http.Response, error) {
	resp, err := s.do(ctx, call{op: "head object", method: http.MethodHead, key: full, size: -1})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// Put stores exactly size bytes of r (read from its start) at key with one
// PUT carrying an explicit Content-Length. The returned ETag is the one the
// service reports, unquoted.
func (s *Store) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) (fs.ObjectInfo, error) {
	if size < 0 {
		return fs.ObjectInfo{}, permanentf("put object %q: negative size %d", key, size)
	}
	full := s.fullKey(key)
	h, err := s.doDiscard(ctx, call{
		op: "put object", method: http.MethodPut, key: full,
		contentType: contentType(key), body: r, size: size,
	})
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	mt := modTimeOf(h)
	if mt.IsZero() {
		mt = time.Now()
	}
	return fs.ObjectInfo{Key: key, Size: size, ETag: etagOf(h), ModTime: mt}, nil
}

// Delete removes key (DeleteFile); deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	resp, err := s.do(ctx, call{op: "delete object", method: http.MethodDelete, key: s.fullKey(key), size: -1})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
