// Package sinktest is the conformance suite every fs.Sink runs.
//
//	sinktest.Run(t, sink, func(ctx context.Context, key string) ([]byte, error) {
//		// read key back through the store's own API (not the Sink);
//		// return an error wrapping fs.ErrNotExist when absent
//	})
//
// Every key the suite writes lies under one fresh prefix "sinktest-<hex>/",
// so runs against a shared bucket do not collide. Object sizes stay small:
// multipart objects use Limits().MinPartSize parts.
package sinktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// ReadBack returns the stored bytes of key, read through the store's own
// API, or an error wrapping fs.ErrNotExist.
type ReadBack func(ctx context.Context, key string) ([]byte, error)

// suite carries what every subtest needs.
type suite struct {
	sink     fs.Sink
	readBack ReadBack
	prefix   string
}

// Run exercises sink: Put (small, empty and awkward keys), Head, multipart
// uploads (out of order, concurrent, listed, completed, aborted), error
// classification and context cancellation. readBack reads what the store
// holds without going through the Sink.
func Run(t *testing.T, sink fs.Sink, readBack func(ctx context.Context, key string) ([]byte, error)) {
	t.Helper()
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatalf("random prefix: %v", err)
	}
	s := &suite{sink: sink, readBack: readBack, prefix: "sinktest-" + hex.EncodeToString(rnd[:]) + "/"}
	t.Run("Limits", s.testLimits)
	t.Run("Put", s.testPut)
	t.Run("PutOverwrite", s.testPutOverwrite)
	t.Run("PutConcurrent", s.testPutConcurrent)
	t.Run("HeadMissing", s.testHeadMissing)
	t.Run("Multipart", s.testMultipart)
	t.Run("MultipartAbort", s.testAbort)
	t.Run("Canceled", s.testCanceled)
	t.Run("Delete", s.testDelete)
}

// Keys returns the awkward keys Put is exercised with (relative to the
// suite's prefix): spaces, unicode, '%', '+', '#', a 200-byte name, depth.
func Keys() []string {
	return []string{
		"small.txt",
		"empty",
		"dir with space/file name.txt",
		"ü/日本.txt",
		"sym/100% done.txt",
		"sym/a+b=c.txt",
		"sym/#tag.txt",
		"long/" + strings.Repeat("n", 196) + ".txt",
		"a/b/c/d/e/f/g/deep.txt",
	}
}

func (s *suite) testLimits(t *testing.T) {
	l := s.sink.Limits()
	if l.MaxSinglePut <= 0 || l.MinPartSize <= 0 || l.MaxPartSize < l.MinPartSize || l.MaxParts <= 1 {
		t.Errorf("Limits() = %+v: want positive sizes, MaxPartSize ≥ MinPartSize, MaxParts > 1", l)
	}
}

// content returns size deterministic pseudo-random bytes seeded by key:
// no period, so a part stored at the wrong offset never matches.
func content(key string, size int) []byte {
	r := mrand.New(mrand.NewChaCha8(sha256.Sum256([]byte(key))))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// put stores data at key and checks Put's answer, what the store holds and
// Head; it returns the ObjectInfo of Put.
func (s *suite) put(t *testing.T, key string, data []byte) fs.ObjectInfo {
	t.Helper()
	ctx := context.Background()
	info, err := s.sink.Put(ctx, key, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Errorf("Put(%q, %d bytes): %v", key, len(data), err)
		return info
	}
	if info.Size != int64(len(data)) {
		t.Errorf("Put(%q): Size = %d, want %d", key, info.Size, len(data))
	}
	want := s.singleETag(data)
	if want != "" && info.ETag != want {
		t.Errorf("Put(%q): ETag = %q, want %q (Checksummer.ObjectETag)", key, info.ETag, want)
	}
	s.checkStored(t, key, data, want)
	return info
}

// singleETag predicts the ETag of data stored with Put, or "".
func (s *suite) singleETag(data []byte) string {
	c, ok := s.sink.(fs.Checksummer)
	if !ok {
		return ""
	}
	return c.ObjectETag([][]byte{fs.SumPart(c, data)}, int64(len(data)), int64(len(data)), false)
}

// checkStored reads key back and heads it; wantETag, when set, must equal
// a non-empty ETag that Head reports.
func (s *suite) checkStored(t *testing.T, key string, data []byte, wantETag string) {
	t.Helper()
	ctx := context.Background()
	got, err := s.readBack(ctx, key)
	if err != nil {
		t.Errorf("read back %q: %v", key, err)
	} else if !bytes.Equal(got, data) {
		t.Errorf("read back %q: %d bytes differ from the %d stored", key, len(got), len(data))
	}
	hi, err := s.sink.Head(ctx, key)
	if err != nil {
		t.Errorf("Head(%q): %v", key, err)
		return
	}
	if hi.Size != int64(len(data)) {
		t.Errorf("Head(%q): Size = %d, want %d", key, hi.Size, len(data))
	}
	if wantETag != "" && hi.ETag != "" && hi.ETag != wantETag {
		t.Errorf("Head(%q): ETag = %q, want %q", key, hi.ETag, wantETag)
	}
}

func (s *suite) testPut(t *testing.T) {
	for i, k := range Keys() {
		key := s.prefix + "put/" + k
		size := 100 + 37*i
		if k == "empty" {
			size = 0
		}
		s.put(t, key, content(key, size))
	}
}

func (s *suite) testPutOverwrite(t *testing.T) {
	key := s.prefix + "overwrite.txt"
	s.put(t, key, content("first version, longer than the second", 5000))
	s.put(t, key, content("second", 300))
}

func (s *suite) testPutConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("%sconcurrent/%d.bin", s.prefix, i)
			data := content(key, 1000+i*513)
			if _, err := s.sink.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
				t.Errorf("concurrent Put(%q): %v", key, err)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 8; i++ {
		key := fmt.Sprintf("%sconcurrent/%d.bin", s.prefix, i)
		s.checkStored(t, key, content(key, 1000+i*513), "")
	}
}

func (s *suite) testHeadMissing(t *testing.T) {
	for _, key := range []string{s.prefix + "missing", s.prefix + "no/such/dir/file"} {
		_, err := s.sink.Head(context.Background(), key)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Head(%q) of a missing key: err = %v, want fs.ErrNotExist", key, err)
			continue
		}
		if !s.sink.IsPermanent(err) {
			t.Errorf("IsPermanent(%v) of a not-found error = false, want true", err)
		}
	}
}

func (s *suite) testCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	key := s.prefix + "canceled.txt"
	data := content(key, 100)
	if _, err := s.sink.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err == nil {
		t.Errorf("Put with a canceled context: no error")
	}
	if _, err := s.sink.Head(ctx, s.prefix+"put/small.txt"); err == nil {
		t.Errorf("Head with a canceled context: no error")
	}
	l := s.sink.Limits()
	if _, err := s.sink.CreateMultipart(ctx, key, 3*l.MinPartSize, l.MinPartSize); err == nil {
		t.Errorf("CreateMultipart with a canceled context: no error")
	}
}

// testDelete checks an optional Delete(ctx, key) method: the object is gone
// afterwards, and deleting a missing key is not an error.
func (s *suite) testDelete(t *testing.T) {
	d, ok := s.sink.(interface {
		Delete(ctx context.Context, key string) error
	})
	if !ok {
		return
	}
	ctx := context.Background()
	key := s.prefix + "to delete.txt"
	data := content(key, 10)
	if _, err := s.sink.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
	if _, err := s.sink.Head(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head(%q) after Delete: %v, want fs.ErrNotExist", key, err)
	}
	if _, err := s.readBack(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read back %q after Delete: %v, want fs.ErrNotExist", key, err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Errorf("Delete(%q) of a missing key: %v, want nil", key, err)
	}
}
