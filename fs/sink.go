package fs

import (
	"context"
	"hash"
	"io"
	"time"
)

// The Sink contract: a destination for objects, beside Tree. A store's
// driver package implements both where the store is writable; the engine
// (transfer) and the fetch executor consume them. Optional extras are
// small interfaces found by type assertion (Checksummer, SummedBody).

// Limits describes how a Sink accepts data.
type Limits struct {
	// MaxSinglePut is the largest object Put accepts in one request; larger
	// objects go through multipart upload.
	MaxSinglePut int64
	// MinPartSize and MaxPartSize bound the size of every part but the last.
	MinPartSize, MaxPartSize int64
	// MaxParts is the largest number of parts one upload may have.
	MaxParts int
}

// ObjectInfo is what a destination reports about a stored object.
type ObjectInfo struct {
	Key     string
	Size    int64
	ETag    string // the store's own checksum, unquoted; may be empty
	ModTime time.Time
}

// Part is one finished part of a multipart upload. Number is 0-based in Ferry
// whatever the store numbers from (S3 sinks add one on the wire).
type Part struct {
	Number int
	Size   int64
	ETag   string // unquoted
}

// Upload is a started multipart upload.
type Upload struct {
	ID string
	// PartSize is the size of every part but the last. A store that chooses
	// it (US3's BlkSize) returns its choice; otherwise it echoes the request.
	PartSize int64
}

// Sink is a destination for objects. Keys are the original object keys
// relative to the sink's configured prefix. All methods are safe for
// concurrent use and take the caller's context first.
type Sink interface {
	// Limits reports size limits; the engine plans parts within them.
	Limits() Limits

	// Head describes key, or returns an error wrapping fs.ErrNotExist.
	Head(ctx context.Context, key string) (ObjectInfo, error)

	// Put stores a whole object from r (exactly size bytes). r is rewindable
	// (io.ReadSeeker) so a Sink may retry or hash it.
	Put(ctx context.Context, key string, r io.ReadSeeker, size int64) (ObjectInfo, error)

	// CreateMultipart starts a multipart upload for an object of the given
	// total size, asking for partSize; the store may choose another part size.
	CreateMultipart(ctx context.Context, key string, size, partSize int64) (Upload, error)

	// UploadPart uploads part n (0-based) of exactly size bytes from r.
	UploadPart(ctx context.Context, key, uploadID string, n int, r io.ReadSeeker, size int64) (Part, error)

	// ListParts returns the parts the store holds for an upload, ordered by
	// number. An unknown upload gives an error wrapping fs.ErrNotExist.
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)

	// CompleteMultipart assembles the parts (ordered, contiguous from 0).
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) (ObjectInfo, error)

	// AbortMultipart discards an upload and its parts. Aborting an unknown
	// upload is not an error.
	AbortMultipart(ctx context.Context, key, uploadID string) error

	// IsPermanent reports whether err will fail again however often it is
	// retried (403, 404, bad request); other errors are retried with backoff.
	IsPermanent(err error) bool
}

// SummedBody is an optional extra of the bodies the engine hands to Put and
// UploadPart: PartSum is the Sink's own PartHash over exactly the body's
// bytes, computed while the engine read them (nil when the Sink is not a
// Checksummer). A Sink may send it with the request (S3's Content-MD5) so
// that the store refuses a body damaged or changed on the way instead of
// storing it.
type SummedBody interface {
	io.ReadSeeker
	PartSum() []byte
}

// Checksummer is implemented by Sinks whose ETags the engine can predict, so
// every upload is verified against what the store reports.
//
// The engine hashes each part's bytes (a whole small object is part 0 of a
// single-part upload) with PartHash while reading it, checks PartETag(sum)
// against the ETag UploadPart returned, and finally checks ObjectETag of all
// part sums against the ETag Put or CompleteMultipart returned. An empty
// expected value means "cannot be predicted here": only the size is checked.
//
// A hash from PartHash that has a Close method (see CloseHash) holds
// resources until it is closed: whoever asked for it closes it once its sum
// is taken or it is abandoned. SumPart does both for bytes in memory.
type Checksummer interface {
	// PartHash returns a fresh hash for one part of size bytes (size lets
	// the Sink pick an implementation suited to it; the hash accepts any
	// number of bytes).
	PartHash(size int64) hash.Hash
	// PartETag is the ETag UploadPart is expected to report for a part.
	PartETag(sum []byte, size int64) string
	// ObjectETag is the ETag of the whole object. multipart is false for an
	// object stored with Put (sums then has one element); partSize is the
	// upload's part size.
	ObjectETag(sums [][]byte, size, partSize int64, multipart bool) string
}

// CloseHash releases a hash from Checksummer.PartHash if it has a Close
// method; it does nothing for other hashes.
func CloseHash(h hash.Hash) {
	if c, ok := h.(interface{ Close() }); ok {
		c.Close()
	}
}

// SumPart returns cs's part hash of b, closing the hash.
func SumPart(cs Checksummer, b []byte) []byte {
	h := cs.PartHash(int64(len(b)))
	defer CloseHash(h)
	h.Write(b)
	return h.Sum(nil)
}

// Deleter is an optional extra of a Sink that can remove an object (a job
// with the delete option removes what vanished from its source). Deleting
// a key that holds nothing is not an error.
type Deleter interface {
	Delete(ctx context.Context, key string) error
}
