package s3

import (
	"bytes"
	"crypto/md5"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ferry-project/ferry/fs"

	md5simd "github.com/minio/md5-simd"

	"github.com/ferry-project/ferry/fs/internal/md5x"
)

// TestStore_PartHash: with an MD5 server, parts from md5x.MinSIMD bytes up
// are hashed by it (a hash to close) and smaller ones by crypto/md5; both
// give the MD5 of the bytes, written in any pieces and many at once.
func TestStore_PartHash(t *testing.T) {
	srv := md5simd.NewServer()
	defer srv.Close()
	st := &Store{md5: srv}
	r := rand.New(rand.NewPCG(7, 7))
	data := make([]byte, 9<<20+3)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	var wg sync.WaitGroup
	for _, size := range []int{0, 1, 64, 16 << 10, md5x.MinSIMD - 1, md5x.MinSIMD, 8<<20 + 1, len(data)} {
		for _, piece := range []int{1 << 20, 4097} {
			wg.Go(func() {
				part := data[:size]
				h := st.PartHash(int64(size))
				defer fs.CloseHash(h)
				_, closable := h.(interface{ Close() })
				if want := size >= md5x.MinSIMD; closable != want {
					t.Errorf("PartHash(%d): multi-buffer hash %v, want %v", size, closable, want)
				}
				for off := 0; off < len(part); off += piece {
					h.Write(part[off:min(off+piece, len(part))])
				}
				if sum := md5.Sum(part); !bytes.Equal(h.Sum(nil), sum[:]) {
					t.Errorf("PartHash(%d) in pieces of %d: sum %x, want %x", size, piece, h.Sum(nil), sum)
				}
			})
		}
	}
	wg.Wait()
	if h := (&Store{}).PartHash(8 << 20); h == nil {
		t.Fatal("PartHash without a server: nil")
	} else if _, closable := h.(interface{ Close() }); closable {
		t.Error("PartHash without a server: not crypto/md5")
	}
}
