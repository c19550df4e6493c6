package local_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
)

// parts cuts data into parts of size ps.
func parts(data []byte, ps int) [][]byte {
	var out [][]byte
	for off := 0; off < len(data); off += ps {
		out = append(out, data[off:min(off+ps, len(data))])
	}
	return out
}

func TestSink_MultipartSurvivesRestart(t *testing.T) {
	s, root := newSink(t)
	ctx := context.Background()
	const ps = 1 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), (2*ps+1000)/16)
	ps3 := parts(data, ps)
	up, err := s.CreateMultipart(ctx, "big/file.bin", int64(len(data)), ps)
	if err != nil {
		t.Fatal(err)
	}
	if up.PartSize != ps {
		t.Errorf("CreateMultipart: PartSize = %d, want the %d asked for", up.PartSize, ps)
	}
	if _, err := s.UploadPart(ctx, "big/file.bin", up.ID, 1, bytes.NewReader(ps3[1]), int64(len(ps3[1]))); err != nil {
		t.Fatal(err)
	}

	// A new process: a fresh Sink over the same root.
	s2, err := local.NewSink(root)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := s2.ListParts(ctx, "big/file.bin", up.ID)
	if err != nil || len(listed) != 1 || listed[0].Number != 1 || listed[0].Size != ps {
		t.Fatalf("ListParts after restart = %+v, %v; want part 1 of %d bytes", listed, err, ps)
	}
	// Upload part 1 again with other bytes, then the rest.
	if _, err := s2.UploadPart(ctx, "big/file.bin", up.ID, 1, bytes.NewReader(ps3[0]), ps); err != nil {
		t.Fatal(err)
	}
	var done []fs.Part
	for i, p := range ps3 {
		part, err := s2.UploadPart(ctx, "big/file.bin", up.ID, i, bytes.NewReader(p), int64(len(p)))
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, part)
	}
	if listed, _ := s2.ListParts(ctx, "big/file.bin", up.ID); len(listed) != 3 || listed[1].ETag != done[1].ETag {
		t.Errorf("ListParts after re-uploading part 1 = %+v, want 3 parts with part 1's latest ETag %s", listed, done[1].ETag)
	}
	if _, err := s2.ListParts(ctx, "other/key", up.ID); !errors.Is(err, local.ErrInvalidRequest) {
		t.Errorf("ListParts with another key: err = %v, want local.ErrInvalidRequest", err)
	}
	info, err := s2.CompleteMultipart(ctx, "big/file.bin", up.ID, done)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	for _, p := range ps3 {
		sum := md5.Sum(p)
		h.Write(sum[:])
	}
	if want := hex.EncodeToString(h.Sum(nil)) + "-3"; info.ETag != want {
		t.Errorf("CompleteMultipart: ETag = %q, want S3's multipart ETag %q", info.ETag, want)
	}
	got, err := os.ReadFile(filepath.Join(root, "big/file.bin"))
	if err != nil || !bytes.Equal(got, data) || info.Size != int64(len(data)) {
		t.Errorf("completed file: %d bytes (%v), info %+v; want the %d uploaded", len(got), err, info, len(data))
	}
	if _, err := os.Stat(filepath.Join(root, ".ferry-uploads", up.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("staging dir after Complete: %v, want it removed", err)
	}
	if _, err := s2.CompleteMultipart(ctx, "big/file.bin", up.ID, done); !errors.Is(err, fs.ErrNotExist) || !s2.IsPermanent(err) {
		t.Errorf("Complete of a finished upload: err = %v, want permanent fs.ErrNotExist", err)
	}
}

func TestSink_CompleteMultipartRejectsBadPartLists(t *testing.T) {
	s, root := newSink(t)
	ctx := context.Background()
	const ps = 1 << 20
	data := bytes.Repeat([]byte{7}, 2*ps+5)
	up, err := s.CreateMultipart(ctx, "k", int64(len(data)), ps)
	if err != nil {
		t.Fatal(err)
	}
	var done []fs.Part
	for i, p := range parts(data, ps)[:2] {
		part, err := s.UploadPart(ctx, "k", up.ID, i, bytes.NewReader(p), int64(len(p)))
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, part)
	}
	badETag := append([]fs.Part(nil), done...)
	badETag[1].ETag = "00000000000000000000000000000000"
	cases := map[string][]fs.Part{
		"a missing last part": done,
		"no parts":            nil,
		"a wrong ETag":        badETag,
		"parts out of order":  {done[1], done[0]},
	}
	for name, list := range cases {
		_, err := s.CompleteMultipart(ctx, "k", up.ID, list)
		if !errors.Is(err, local.ErrInvalidRequest) || !s.IsPermanent(err) {
			t.Errorf("Complete with %s: err = %v, want permanent local.ErrInvalidRequest", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "k")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rejected Complete left a file at the key: %v", err)
	}
	if _, err := s.UploadPart(ctx, "k", up.ID, 2, bytes.NewReader(data), int64(len(data))); !errors.Is(err, local.ErrInvalidRequest) {
		t.Errorf("UploadPart larger than the part size: err = %v, want local.ErrInvalidRequest", err)
	}
	for _, id := range []string{"../../escape", "nothex", "0123456789abcdef0123456789abcdef"} {
		if _, err := s.ListParts(ctx, "k", id); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ListParts(upload %q): err = %v, want fs.ErrNotExist", id, err)
		}
		if err := s.AbortMultipart(ctx, "k", id); err != nil {
			t.Errorf("AbortMultipart(unknown upload %q): %v, want nil", id, err)
		}
	}
	if _, err := s.CreateMultipart(ctx, "k2", 20000<<20, 1<<20); !errors.Is(err, local.ErrInvalidRequest) {
		t.Errorf("CreateMultipart needing 20000 parts: err = %v, want local.ErrInvalidRequest", err)
	}
}
