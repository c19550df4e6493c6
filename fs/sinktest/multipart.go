package sinktest

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// plan is a multipart object cut into parts of the upload's part size.
type plan struct {
	data     []byte
	partSize int64
	parts    [][]byte
}

// newPlan starts a multipart upload of a 2.5-part object (MinPartSize
// parts) and cuts the data with the part size the sink chose.
func (s *suite) newPlan(t *testing.T, key string) (fs.Upload, plan) {
	t.Helper()
	l := s.sink.Limits()
	want := l.MinPartSize
	size := 2*want + want/2 + 1
	up, err := s.sink.CreateMultipart(context.Background(), key, size, want)
	if err != nil {
		t.Fatalf("CreateMultipart(%q, size %d, part %d): %v", key, size, want, err)
	}
	if up.ID == "" || up.PartSize <= 0 {
		t.Fatalf("CreateMultipart(%q): Upload = %+v, want an ID and a positive PartSize", key, up)
	}
	p := plan{data: content(key, int(size)), partSize: up.PartSize}
	for off := int64(0); off < size; off += up.PartSize {
		p.parts = append(p.parts, p.data[off:min(off+up.PartSize, size)])
	}
	if len(p.parts) < 2 {
		t.Logf("sink chose part size %d for a %d-byte object: a single part", up.PartSize, size)
	}
	return up, p
}

// uploadPart uploads part n of p and checks the answer.
func (s *suite) uploadPart(t *testing.T, key, id string, p plan, n int) fs.Part {
	data := p.parts[n]
	part, err := s.sink.UploadPart(context.Background(), key, id, n, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Errorf("UploadPart(%q, part %d, %d bytes): %v", key, n, len(data), err)
		return part
	}
	if part.Number != n || part.Size != int64(len(data)) {
		t.Errorf("UploadPart(%q, part %d): Part = %+v, want Number %d Size %d", key, n, part, n, len(data))
	}
	if c, ok := s.sink.(fs.Checksummer); ok {
		if want := c.PartETag(fs.SumPart(c, data), int64(len(data))); want != "" && part.ETag != want {
			t.Errorf("UploadPart(%q, part %d): ETag = %q, want %q (Checksummer.PartETag)", key, n, part.ETag, want)
		}
	}
	return part
}

// objectETag predicts the ETag of the completed upload, or "".
func (s *suite) objectETag(p plan) string {
	c, ok := s.sink.(fs.Checksummer)
	if !ok {
		return ""
	}
	sums := make([][]byte, len(p.parts))
	for i, d := range p.parts {
		sums[i] = fs.SumPart(c, d)
	}
	return c.ObjectETag(sums, int64(len(p.data)), p.partSize, true)
}

func (s *suite) testMultipart(t *testing.T) {
	ctx := context.Background()
	key := s.prefix + "multipart/ü big+file #1.bin"
	up, p := s.newPlan(t, key)
	n := len(p.parts)
	got := make([]fs.Part, n)
	// The last part first, then the others concurrently.
	got[n-1] = s.uploadPart(t, key, up.ID, p, n-1)
	var wg sync.WaitGroup
	for i := 0; i < n-1; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = s.uploadPart(t, key, up.ID, p, i)
		}()
	}
	wg.Wait()
	if t.Failed() {
		s.sink.AbortMultipart(ctx, key, up.ID)
		return
	}

	listed, err := s.sink.ListParts(ctx, key, up.ID)
	if err != nil {
		t.Fatalf("ListParts(%q): %v", key, err)
	}
	if len(listed) != n {
		t.Fatalf("ListParts(%q): %d parts %+v, want %d", key, len(listed), listed, n)
	}
	for i, lp := range listed {
		if lp.Number != i || lp.Size != int64(len(p.parts[i])) {
			t.Errorf("ListParts(%q)[%d] = %+v, want Number %d Size %d", key, i, lp, i, len(p.parts[i]))
		}
		if lp.ETag != "" && got[i].ETag != "" && lp.ETag != got[i].ETag {
			t.Errorf("ListParts(%q)[%d]: ETag %q, UploadPart said %q", key, i, lp.ETag, got[i].ETag)
		}
	}

	sort.Slice(got, func(i, j int) bool { return got[i].Number < got[j].Number })
	info, err := s.sink.CompleteMultipart(ctx, key, up.ID, got)
	if err != nil {
		t.Fatalf("CompleteMultipart(%q): %v", key, err)
	}
	if info.Size != 0 && info.Size != int64(len(p.data)) {
		t.Errorf("CompleteMultipart(%q): Size = %d, want %d", key, info.Size, len(p.data))
	}
	want := s.objectETag(p)
	if want != "" && info.ETag != want {
		t.Errorf("CompleteMultipart(%q): ETag = %q, want %q (Checksummer.ObjectETag)", key, info.ETag, want)
	}
	s.checkStored(t, key, p.data, want)
}

func (s *suite) testAbort(t *testing.T) {
	ctx := context.Background()
	key := s.prefix + "multipart/aborted.bin"
	up, p := s.newPlan(t, key)
	s.uploadPart(t, key, up.ID, p, 0)
	listed, err := s.sink.ListParts(ctx, key, up.ID)
	if err != nil || len(listed) != 1 || listed[0].Number != 0 {
		t.Errorf("ListParts(%q) after uploading part 0: %+v, %v; want just part 0", key, listed, err)
	}
	if err := s.sink.AbortMultipart(ctx, key, up.ID); err != nil {
		t.Fatalf("AbortMultipart(%q): %v", key, err)
	}
	listed, err = s.sink.ListParts(ctx, key, up.ID)
	if err == nil && len(listed) != 0 {
		t.Errorf("ListParts(%q) after abort: %d parts, want fs.ErrNotExist or none", key, len(listed))
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ListParts(%q) after abort: err = %v, want fs.ErrNotExist", key, err)
	}
	if err := s.sink.AbortMultipart(ctx, key, up.ID); err != nil {
		t.Errorf("AbortMultipart(%q) a second time: %v, want nil", key, err)
	}
	if _, err := s.sink.Head(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head(%q) after abort: err = %v, want fs.ErrNotExist", key, err)
	}
	if _, err := s.readBack(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read back %q after abort: err = %v, want fs.ErrNotExist", key, err)
	}
}
