package us3_test

import (
	"bytes"
	"context"
	"github.com/ferry-project/ferry/fs"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs/sinktest"
)

// TestStore_Sink runs the Sink conformance suite; what it stores is read
// back through the SDK's DownloadFile.
func TestStore_Sink(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 0)
	s := e.store(t, "sink")
	sinktest.Run(t, s, func(ctx context.Context, key string) ([]byte, error) {
		return e.sdkGet(t, "sink/"+key)
	})
}

// upload stores data at key through the Sink as the engine would: one Put
// when it fits, else multipart with the part size the service chose. It
// checks every part ETag and the object ETag against the Checksummer.
func upload(t *testing.T, s fs.Sink, key string, data []byte) fs.ObjectInfo {
	t.Helper()
	ctx := context.Background()
	c := s.(fs.Checksummer)
	size := int64(len(data))
	if size <= s.Limits().MaxSinglePut {
		info, err := s.Put(ctx, key, bytes.NewReader(data), size)
		if err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		if want := c.ObjectETag([][]byte{fs.SumPart(c, data)}, size, size, false); info.ETag != want {
			t.Errorf("Put(%q): ETag %q, want %q", key, info.ETag, want)
		}
		return info
	}
	up, err := s.CreateMultipart(ctx, key, size, s.Limits().MinPartSize)
	if err != nil {
		t.Fatalf("CreateMultipart(%q): %v", key, err)
	}
	var parts []fs.Part
	var sums [][]byte
	for n, off := 0, int64(0); off < size; n, off = n+1, off+up.PartSize {
		d := data[off:min(off+up.PartSize, size)]
		p, err := s.UploadPart(ctx, key, up.ID, n, bytes.NewReader(d), int64(len(d)))
		if err != nil {
			t.Fatalf("UploadPart(%q, %d): %v", key, n, err)
		}
		sums = append(sums, fs.SumPart(c, d))
		if want := c.PartETag(sums[n], int64(len(d))); want != "" && p.ETag != want {
			t.Errorf("UploadPart(%q, %d): ETag %q, want %q", key, n, p.ETag, want)
		}
		parts = append(parts, p)
	}
	info, err := s.CompleteMultipart(ctx, key, up.ID, parts)
	if err != nil {
		t.Fatalf("CompleteMultipart(%q): %v", key, err)
	}
	if want := c.ObjectETag(sums, size, up.PartSize, true); want != "" && info.ETag != want {
		t.Errorf("CompleteMultipart(%q): ETag %q, want %q", key, info.ETag, want)
	}
	return info
}

// TestStore_ETagMatchesSDK writes objects through the Sink and verifies
// them with the SDK's own ETag algorithm (CompareFileEtag / GetFileEtag)
// and download.
func TestStore_ETagMatchesSDK(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 0)
	s := e.store(t, "etag/")
	for i, size := range []int{0, 11, 4 << 20, 4<<20 + 3, 9<<20 + 100} {
		key := strings.Repeat("x", i+1) + ".bin"
		data := pattern(i, size)
		info := upload(t, s, key, data)
		if info.Size != int64(size) {
			t.Errorf("%s: stored size %d, want %d", key, info.Size, size)
		}
		if !e.sdkETagMatches(t, "etag/"+key, data) {
			t.Errorf("%s (%d bytes): SDK CompareFileEtag = false", key, size)
		}
		got, err := e.sdkGet(t, "etag/"+key)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: SDK download %d bytes, %v; want the %d uploaded", key, len(got), err, size)
		}
	}
}

// TestStore_SmallBlkSize uploads through a service that chose a tiny
// BlkSize: the Sink follows it, and ETags it cannot predict are "".
func TestStore_SmallBlkSize(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 1<<20)
	s := e.store(t, "")
	ctx := context.Background()
	data := pattern(7, 5<<20+9)
	up, err := s.CreateMultipart(ctx, "small-blk.bin", int64(len(data)), 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	if up.PartSize != 1<<20 {
		t.Fatalf("Upload.PartSize = %d, want the service's BlkSize %d", up.PartSize, 1<<20)
	}
	if s.ObjectETag(make([][]byte, 6), int64(len(data)), up.PartSize, true) != "" {
		t.Errorf("ObjectETag with 1 MiB parts is not \"\"")
	}
	info := upload(t, s, "small-blk.bin", data)
	if !e.sdkETagMatches(t, "small-blk.bin", data) || info.Size != int64(len(data)) {
		t.Errorf("object of 1 MiB parts: SDK ETag mismatch or size %d", info.Size)
	}
	if up2, _ := s.ListParts(ctx, "small-blk.bin", up.ID); len(up2) != 0 {
		t.Errorf("ListParts of an upload never used: %d parts", len(up2))
	}
	s.AbortMultipart(ctx, "small-blk.bin", up.ID)
	// A short last part is refused only at finish, permanently.
	up3, err := s.CreateMultipart(ctx, "bad.bin", 3<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	p0, err0 := s.UploadPart(ctx, "bad.bin", up3.ID, 0, bytes.NewReader(data[:1000]), 1000)
	p1, err1 := s.UploadPart(ctx, "bad.bin", up3.ID, 1, bytes.NewReader(data[:1<<20]), 1<<20)
	if err0 != nil || err1 != nil {
		t.Fatalf("UploadPart: %v, %v", err0, err1)
	}
	_, err = s.CompleteMultipart(ctx, "bad.bin", up3.ID, []fs.Part{p0, p1})
	if err == nil || !s.IsPermanent(err) {
		t.Errorf("Complete with a short first part: err = %v, want a permanent error", err)
	}
	if err != nil && (strings.Contains(err.Error(), testPriv) || strings.Contains(err.Error(), testPub)) {
		t.Errorf("error %q reveals a key", err)
	}
}
