package main

import (
	"sync"

	md5simd "github.com/minio/md5-simd"
)

// hashers holds the process's multi-buffer MD5 server (fs/s3 Config.MD5):
// started when the first S3 store is opened, shared by every store of the
// process so that parts in flight on all of them fill its lanes, and closed
// when run returns. A nil *hashers gives no server (crypto/md5).
type hashers struct {
	once sync.Once
	md5  md5simd.Server
}

// server returns the MD5 server, starting it on first use.
func (h *hashers) server() md5simd.Server {
	if h == nil {
		return nil
	}
	h.once.Do(func() { h.md5 = md5simd.NewServer() })
	return h.md5
}

// close stops the server if it was started. Nothing may hash after it.
func (h *hashers) close() {
	if h == nil {
		return
	}
	h.once.Do(func() {}) // a later server() starts nothing
	if h.md5 != nil {
		h.md5.Close()
	}
}
