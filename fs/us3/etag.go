package us3

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"hash"
)

// blockHash computes the SHA-1 of every 4 MiB block of what is written. Its
// Sum appends the concatenation of those block SHA-1s (the last, partial
// block included; nothing written at all sums as one empty block, SHA1("")).
// Size reports one block digest; Sum returns 20 bytes per block.
type blockHash struct {
	cur  hash.Hash
	n    int64  // bytes in the current block
	sums []byte // digests of finished blocks
}

var _ hash.Hash = (*blockHash)(nil)

func newBlockHash() *blockHash { return &blockHash{cur: sha1.New()} }

// Write hashes p; it never fails.
func (h *blockHash) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		take := min(int64(len(p)), blockSize-h.n)
		h.cur.Write(p[:take])
		h.n += take
		p = p[take:]
		if h.n == blockSize {
			h.sums = h.cur.Sum(h.sums)
			h.cur.Reset()
			h.n = 0
		}
	}
	return written, nil
}

// Sum appends the block digests to b without changing the state.
func (h *blockHash) Sum(b []byte) []byte {
	b = append(b, h.sums...)
	if h.n > 0 || len(h.sums) == 0 {
		b = h.cur.Sum(b)
	}
	return b
}

func (h *blockHash) Reset() {
	h.cur.Reset()
	h.n = 0
	h.sums = h.sums[:0]
}

func (h *blockHash) Size() int      { return sha1.Size }
func (h *blockHash) BlockSize() int { return sha1.BlockSize }

// PartHash returns a hash whose Sum is the concatenated SHA-1s of the 4 MiB
// blocks of the bytes written (see ObjectETag).
func (s *Store) PartHash(size int64) hash.Hash { return newBlockHash() }

// PartETag is the ETag US3 reports for an uploaded part: base64url (padded)
// of the part's SHA-1, known only when the part is one block (≤ 4 MiB);
// otherwise "".
func (s *Store) PartETag(sum []byte, size int64) string {
	if size > blockSize || len(sum) != sha1.Size {
		return ""
	}
	return base64.URLEncoding.EncodeToString(sum)
}

// ObjectETag is the US3 ETag of the whole object: with n = ceil(size/4 MiB)
// blocks, base64url(LE32(n) ‖ digest) where digest is the block's SHA-1 when
// n ≤ 1, else SHA-1 of all block SHA-1s concatenated in order. It is "" when
// the block digests cannot be known from the part sums: a multipart upload
// of several parts whose part size is not a multiple of 4 MiB, or sums that
// do not hold one digest per block.
func (s *Store) ObjectETag(sums [][]byte, size, partSize int64, multipart bool) string {
	if size < 0 || (multipart && len(sums) > 1 && (partSize <= 0 || partSize%blockSize != 0)) {
		return ""
	}
	var all []byte
	for _, s := range sums {
		all = append(all, s...)
	}
	n := (size + blockSize - 1) / blockSize
	if len(all) != int(max(n, 1))*sha1.Size {
		return ""
	}
	return etagFromBlocks(all, n)
}

// etagFromBlocks builds the US3 ETag from n block digests (n = 0 for an
// empty object, whose one "block" is SHA1("")).
func etagFromBlocks(all []byte, n int64) string {
	out := make([]byte, 4, 4+sha1.Size)
	binary.LittleEndian.PutUint32(out, uint32(n))
	if n <= 1 {
		out = append(out, all[:sha1.Size]...)
	} else {
		d := sha1.Sum(all)
		out = append(out, d[:]...)
	}
	return base64.URLEncoding.EncodeToString(out)
}
