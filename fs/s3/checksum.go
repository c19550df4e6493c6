package s3

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/ferry-project/ferry/fs/internal/md5x"
)

// PartHash returns an MD5 hash (S3 ETags of unencrypted objects are MD5s):
// for a part of md5x.MinSIMD bytes or more one of the Config.MD5 server,
// which must be closed (fs.CloseHash), else crypto/md5.
func (s *Store) PartHash(size int64) hash.Hash { return md5x.New(s.md5, size) }

// PartETag is the hex MD5 of the part, the ETag S3 returns for UploadPart.
func (s *Store) PartETag(sum []byte, size int64) string { return hex.EncodeToString(sum) }

// ObjectETag is the ETag S3 reports for the whole object: the hex MD5 of
// the bytes for Put; for multipart, the hex MD5 of the concatenated raw
// part MD5s followed by "-" and the part count. (SSE-KMS and SSE-C objects
// have other ETags; Ferry does not set them.)
func (s *Store) ObjectETag(sums [][]byte, size, partSize int64, multipart bool) string {
	if !multipart {
		if len(sums) != 1 {
			return ""
		}
		return hex.EncodeToString(sums[0])
	}
	h := md5.New()
	for _, sum := range sums {
		h.Write(sum)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(sums))
}
