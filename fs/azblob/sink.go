package azblob

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/md5x"
)

// Size limits of block blobs, and Ferry's single-put cut-off.
const (
	// MaxSinglePut is where Put stops and staged blocks start: Azure takes
	// up to 5000 MiB in one Put Blob, but a large single request is one
	// stream that must restart from zero on any error, so larger objects
	// are staged as blocks, in parallel and retried block by block.
	MaxSinglePut = 64 << 20
	// MinPartSize is Ferry's smallest block (Azure has no minimum).
	MinPartSize = 1 << 20
	// MaxPartSize is the largest block Put Block accepts (4000 MiB).
	MaxPartSize = 4000 << 20
	// MaxParts is the most blocks a committed block list may hold.
	MaxParts = 50000
)

// Limits reports the block blob limits and Ferry's single-put cut-off.
func (s *Store) Limits() fs.Limits {
	return fs.Limits{MaxSinglePut: MaxSinglePut, MinPartSize: MinPartSize, MaxPartSize: MaxPartSize, MaxParts: MaxParts}
}

// Head describes key (Get Blob Properties); an absent key gives an error
// wrapping fs.ErrNotExist. ETag is the hex Content-MD5 when the blob has
// one (every blob Put stored), else empty.
func (s *Store) Head(ctx context.Context, key string) (fs.ObjectInfo, error) {
	b, rel, err := s.locate(key)
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	e, err := b.head(ctx, rel)
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	return fs.ObjectInfo{Key: key, Size: e.Size, ETag: e.ETag, ModTime: e.ModTime}, nil
}

// Put stores size bytes from r (from its current position) at key as a
// block blob with one Put Blob carrying Content-MD5: the service refuses
// bytes that do not hash to it. The MD5 is the one a fs.SummedBody
// carries, else it is computed from r first. The returned ETag is the hex
// Content-MD5 the service reports, which Checksummer.ObjectETag predicts.
func (s *Store) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) (fs.ObjectInfo, error) {
	b, rel, err := s.locate(key)
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	if size < 0 {
		return fs.ObjectInfo{}, permanentf("put %s: negative size %d", b.label(rel), size)
	}
	if err := ctx.Err(); err != nil {
		return fs.ObjectInfo{}, err
	}
	body, sum, err := s.summed(r, size)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("put %s: %w", b.label(rel), err)
	}
	resp, err := b.blockBlob(rel).Upload(ctx, body, &blockblob.UploadOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(sum),
	})
	if err != nil {
		return fs.ObjectInfo{}, wrap("put blob", b.label(rel), err)
	}
	info := fs.ObjectInfo{Key: key, Size: size, ETag: hex.EncodeToString(sum), ModTime: deref(resp.LastModified)}
	if len(resp.ContentMD5) == md5.Size {
		info.ETag = hex.EncodeToString(resp.ContentMD5)
	}
	return info, nil
}

// summed returns a body of exactly size bytes of r from its current
// position (positioned at 0, as the SDK wants) and its MD5: the one a
// fs.SummedBody carries, else one computed by reading r once.
func (s *Store) summed(r io.ReadSeeker, size int64) (*window, []byte, error) {
	w, err := newWindow(r, size)
	if err != nil {
		return nil, nil, err
	}
	if sb, ok := r.(fs.SummedBody); ok {
		if sum := sb.PartSum(); len(sum) == md5.Size {
			return w, sum, nil
		}
	}
	h := s.PartHash(size)
	defer fs.CloseHash(h)
	n, err := io.Copy(h, w)
	if err != nil {
		return nil, nil, fmt.Errorf("hash body: %w", err)
	}
	if n != size {
		return nil, nil, permanentf("hash body: %d bytes, want %d", n, size)
	}
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("rewind body: %w", err)
	}
	return w, h.Sum(nil), nil
}

// window is size bytes of a ReadSeeker from the position it had, seen as
// a stream of its own starting at 0 (the SDK seeks to 0 and to the end to
// learn the length).
type window struct {
	r          io.ReadSeeker
	base, size int64
	pos        int64
}

// newWindow starts a window at r's current position.
func newWindow(r io.ReadSeeker, size int64) (*window, error) {
	base, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("body is not seekable: %w", err)
	}
	return &window{r: r, base: base, size: size}, nil
}

func (w *window) Read(p []byte) (int, error) {
	if w.pos >= w.size {
		return 0, io.EOF
	}
	if int64(len(p)) > w.size-w.pos {
		p = p[:w.size-w.pos]
	}
	n, err := w.r.Read(p)
	w.pos += int64(n)
	if err == io.EOF && w.pos < w.size {
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

func (w *window) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += w.pos
	case io.SeekEnd:
		off += w.size
	default:
		return 0, errors.New("window: bad whence")
	}
	if off < 0 {
		return 0, errors.New("window: negative position")
	}
	if _, err := w.r.Seek(w.base+off, io.SeekStart); err != nil {
		return 0, err
	}
	w.pos = off
	return off, nil
}

// Close does nothing: the caller owns r.
func (w *window) Close() error { return nil }

// Delete removes key and its snapshots; deleting a missing key is not an
// error.
func (s *Store) Delete(ctx context.Context, key string) error {
	b, rel, err := s.locate(key)
	if err != nil {
		return err
	}
	_, err = b.blob(rel).Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	if err = wrap("delete blob", b.label(rel), err); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// PartHash returns an MD5 hash: Put and every staged block carry their
// MD5 as Content-MD5. Parts of md5x.MinSIMD bytes and more use the
// Config.MD5 server when set (the hash must then be closed, fs.CloseHash).
func (s *Store) PartHash(size int64) hash.Hash { return md5x.New(s.md5, size) }

// PartETag is the hex MD5 of the part: the ETag UploadPart and ListParts
// report for a block (the block's MD5 is part of its ID).
func (s *Store) PartETag(sum []byte, size int64) string { return hex.EncodeToString(sum) }

// ObjectETag is the ETag Put reports, the hex Content-MD5 of the bytes;
// for a committed block list it cannot be predicted (Azure stores no MD5
// for it), so "" asks the engine to check the size with Head: every
// block's bytes were already verified by the service against their
// Content-MD5, and the committed list names each block by its MD5.
func (s *Store) ObjectETag(sums [][]byte, size, partSize int64, multipart bool) string {
	if multipart || len(sums) != 1 {
		return ""
	}
	return hex.EncodeToString(sums[0])
}
