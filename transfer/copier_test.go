package transfer_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
	"github.com/ferry-project/ferry/transfer"
)

// streamFile is a source read in order only, like one HTTP body: a read
// anywhere but where the last one stopped fails. Its size, like a
// Content-Length, is a hint for CreateMultipart (a local Sink checks it).
type streamFile struct {
	mu   sync.Mutex
	r    io.Reader
	pos  int64
	size int64
}

func (s *streamFile) Size() int64 { return s.size }

func (s *streamFile) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off != s.pos {
		return 0, fmt.Errorf("read at %d of a stream at %d", off, s.pos)
	}
	n, err := io.ReadFull(s.r, p)
	s.pos += int64(n)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

func (s *streamFile) Close() error { return nil }

// memFile is a source read at any offset.
type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

// Copier.Copy stores objects of unknown size read as one stream and of
// known size read in parallel parts, one Put or multipart by size, and
// feeds Object.Whole every byte in order.
func TestCopier_Copy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sink, err := local.NewSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	cp := transfer.NewCopier(sink, transfer.CopierOptions{PartSize: 1 << 20})
	stop := cp.Start(ctx, 3)
	defer stop()
	const mib = 1 << 20
	for _, size := range []int{0, 1000, mib, mib + 1, 2 * mib, 3*mib + 12345} {
		data := randBytes(uint64(size)+1, size)
		for _, stream := range []bool{true, false} {
			key := fmt.Sprintf("k/%d-%v", size, stream)
			o := &transfer.Object{Key: key, Path: key, Size: int64(size), Whole: sha1.New()}
			if stream {
				o.Size, o.Sequential = -1, true
				o.Open = func(context.Context) (fs.File, error) {
					return &streamFile{r: bytes.NewReader(data), size: int64(len(data))}, nil
				}
			} else {
				o.Open = func(context.Context) (fs.File, error) { return memFile{bytes.NewReader(data)}, nil }
			}
			info, _, err := cp.Copy(ctx, o)
			if err != nil {
				t.Fatalf("Copy %s: %v", key, err)
			}
			want := sha1.Sum(data)
			if info.Size != int64(size) || info.ETag == "" || !bytes.Equal(o.Whole.Sum(nil), want[:]) {
				t.Fatalf("Copy %s = %+v, whole hash %x; want %d bytes, %x", key, info, o.Whole.Sum(nil), size, want)
			}
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("stored %s: %d bytes (%v), want %d", key, len(got), err, size)
			}
			if multipart := o.UploadID != ""; multipart != (size > mib) {
				t.Fatalf("Copy %s: multipart %v", key, multipart)
			}
		}
	}
}
