// Package md5x gives the MD5 hash the drivers use for a part of a known
// size: one from a multi-buffer SIMD server (github.com/minio/md5-simd)
// when the part is large enough for that to pay, else crypto/md5.
//
// The server hashes the parts in flight together in AVX2/AVX-512 lanes on
// one core (it falls back to crypto/md5 on other CPUs): about a third of
// crypto/md5's CPU when many parts are hashed at once. Handing blocks to its
// goroutine costs more than it saves on small parts: a 16 KiB object took
// 25 times longer there.
package md5x

import (
	"crypto/md5"
	"hash"

	md5simd "github.com/minio/md5-simd"
)

// MinSIMD is the smallest size hashed by the server.
const MinSIMD = 1 << 20

// New returns an MD5 hash for size bytes: one of srv when srv is set and
// size is at least MinSIMD (it has a Close method that must be called
// once it is done with, see fs.CloseHash), else crypto/md5.
func New(srv md5simd.Server, size int64) hash.Hash {
	if srv != nil && size >= MinSIMD {
		return srv.NewHash()
	}
	return md5.New()
}
