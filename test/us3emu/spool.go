package us3emu

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
)

// spooled is a request body written to a temp file.
type spooled struct {
	path string
	size int64
	etag string // US3 ETag of the content
	sha1 []byte // SHA-1 of the content, when asked for
}

// spool streams r into a new temp file in dir while computing the US3 ETag,
// the SHA-1 when withSHA1 is set and, when contentMD5 is set (hex, or base64
// of 16 bytes), verifying the MD5. A body longer than limit (when limit >= 0)
// is refused. On error no file is left behind.
func spool(ctx context.Context, dir string, r io.Reader, limit int64, contentMD5 string, withSHA1 bool) (*spooled, *apiError) {
	var wantMD5 []byte
	if contentMD5 != "" {
		var err error
		if wantMD5, err = parseMD5(contentMD5); err != nil {
			return nil, errBadArg("invalid Content-MD5")
		}
	}
	f, err := os.CreateTemp(dir, "body-*")
	if err != nil {
		return nil, errInternal(fmt.Errorf("create temp: %w", err))
	}
	et := newETagHasher()
	var md, sh hash.Hash = nopHash{}, nopHash{}
	if wantMD5 != nil {
		md = md5.New()
	}
	if withSHA1 {
		sh = sha1.New()
	}
	src := &ctxReader{ctx: ctx, r: r}
	var n int64
	if limit >= 0 {
		n, err = io.Copy(io.MultiWriter(f, et, sh, md), io.LimitReader(src, limit+1))
	} else {
		n, err = io.Copy(io.MultiWriter(f, et, sh, md), src)
	}
	cerr := f.Close()
	fail := func(e *apiError) (*spooled, *apiError) {
		os.Remove(f.Name())
		return nil, e
	}
	if err != nil {
		return fail(errBadArg("read body: %v", err))
	}
	if cerr != nil {
		return fail(errInternal(fmt.Errorf("close temp: %w", cerr)))
	}
	if limit >= 0 && n > limit {
		return fail(errf(http.StatusRequestEntityTooLarge, retInvalidArgument, "body larger than %d bytes", limit))
	}
	if wantMD5 != nil && !bytes.Equal(md.Sum(nil), wantMD5) {
		return fail(errf(http.StatusBadRequest, retMD5Mismatch, "content md5 not match"))
	}
	return &spooled{path: f.Name(), size: n, etag: et.ETag(), sha1: sh.Sum(nil)}, nil
}

// parseMD5 accepts the SDK's lowercase hex or the standard base64 form.
func parseMD5(s string) ([]byte, error) {
	if len(s) == 32 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != md5.Size {
		return nil, errors.New("bad md5")
	}
	return b, nil
}

// nopHash stands in for a digest nobody asked for.
type nopHash struct{}

func (nopHash) Write(p []byte) (int, error) { return len(p), nil }
func (nopHash) Sum(b []byte) []byte         { return b }
func (nopHash) Reset()                      {}
func (nopHash) Size() int                   { return 0 }
func (nopHash) BlockSize() int              { return 64 }

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// copyFile copies src to the new file dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open source: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create copy: %w", err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return fmt.Errorf("copy file: %w", err)
	}
	return nil
}
