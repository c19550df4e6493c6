package us3emu

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"hash"
)

// etagBlock is the block size of the US3 ETag algorithm, independent of the
// multipart BlkSize a server hands out.
const etagBlock = 4 << 20

// etagHasher computes the US3 ETag of everything written to it:
// base64url(LE32(ceil(n/4MiB)) ‖ digest), where digest is SHA-1(content)
// for n ≤ 4 MiB and SHA-1(SHA-1(block0) ‖ SHA-1(block1) ‖ …) otherwise.
// It holds 20 bytes per block, never the content.
type etagHasher struct {
	n     int64     // bytes written
	blk   hash.Hash // SHA-1 of the current block
	inBlk int64     // bytes in the current block
	sums  []byte    // SHA-1s of completed blocks
}

func newETagHasher() *etagHasher {
	return &etagHasher{blk: sha1.New()}
}

// Write never fails.
func (h *etagHasher) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		room := etagBlock - h.inBlk
		chunk := p
		if int64(len(chunk)) > room {
			chunk = chunk[:room]
		}
		h.blk.Write(chunk)
		h.inBlk += int64(len(chunk))
		h.n += int64(len(chunk))
		p = p[len(chunk):]
		if h.inBlk == etagBlock {
			h.sums = h.blk.Sum(h.sums)
			h.blk.Reset()
			h.inBlk = 0
		}
	}
	return total, nil
}

// Size is the number of bytes written.
func (h *etagHasher) Size() int64 { return h.n }

// ETag returns the US3 ETag (32 characters, unquoted) of the bytes written.
func (h *etagHasher) ETag() string {
	blocks := h.n / etagBlock
	if h.n%etagBlock != 0 {
		blocks++
	}
	out := make([]byte, 4, 24)
	binary.LittleEndian.PutUint32(out, uint32(blocks))
	var digest []byte
	switch {
	case h.n < etagBlock:
		digest = h.blk.Sum(nil)
	case h.n == etagBlock:
		digest = h.sums[:sha1.Size]
	default:
		sums := h.sums
		if h.inBlk > 0 {
			sums = h.blk.Sum(append([]byte(nil), sums...))
		}
		d := sha1.Sum(sums)
		digest = d[:]
	}
	return base64.URLEncoding.EncodeToString(append(out, digest...))
}

// etagFromBlockSums computes the US3 ETag of size bytes from the SHA-1 of
// each of its 4 MiB blocks.
func etagFromBlockSums(size int64, sums [][]byte) string {
	if size == 0 {
		sums = nil
	}
	out := make([]byte, 4, 24)
	binary.LittleEndian.PutUint32(out, uint32(len(sums)))
	switch len(sums) {
	case 0:
		d := sha1.Sum(nil)
		out = append(out, d[:]...)
	case 1:
		out = append(out, sums[0]...)
	default:
		h := sha1.New()
		for _, s := range sums {
			h.Write(s)
		}
		out = h.Sum(out)
	}
	return base64.URLEncoding.EncodeToString(out)
}

// partETag is a multipart part's ETag: base64url with padding of the SHA-1
// of the part, as in UCloud's examples (28 characters).
func partETag(sum []byte) string {
	return base64.URLEncoding.EncodeToString(sum)
}

// quote wraps an ETag in double quotes for a header.
func quote(etag string) string { return `"` + etag + `"` }
