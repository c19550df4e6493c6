package us3

import (
	"bytes"
	"crypto/sha1"
	"os"
	"path/filepath"
	"testing"

	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

// etagCase is a worked example of reference §6.
type etagCase struct {
	name string
	data []byte
	want string
}

func etagCases() []etagCase {
	a4 := bytes.Repeat([]byte("a"), 4<<20)
	return []etagCase{
		{"hello world", []byte("hello world"), "AQAAACqubDXJT8-0FdvpX0CLnOke6Ebt"},
		{"4 MiB of a", a4, "AQAAAOwQ-vpd56Izwiom1JHzCIdrQa4_"},
		{"4 MiB of a + xyz", append(append([]byte{}, a4...), "xyz"...), "AgAAAKs71Id4J7Z4utcUv1cVb4nLBSJR"},
		{"empty", nil, "AAAAANo5o-5ea0sNMlW_75VgGJCv2AcJ"},
	}
}

func TestStore_ObjectETag(t *testing.T) {
	s := &Store{}
	dir := t.TempDir()
	for _, c := range etagCases() {
		h := s.PartHash(0)
		h.Write(c.data)
		got := s.ObjectETag([][]byte{h.Sum(nil)}, int64(len(c.data)), int64(len(c.data)), false)
		if got != c.want {
			t.Errorf("ObjectETag(%s) single put = %q, want %q", c.name, got, c.want)
		}
		// The SDK's own GetFileEtag is the reference implementation.
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if sdk := ufsdk.GetFileEtag(p); sdk != got {
			t.Errorf("ObjectETag(%s) = %q, ufsdk.GetFileEtag = %q", c.name, got, sdk)
		}
	}
}

func TestStore_ObjectETagMultipart(t *testing.T) {
	s := &Store{}
	// 10 MiB + 3 bytes in 4 MiB parts, hashed part by part, equals the
	// whole-object ETag; written in odd-sized chunks to cross block edges.
	data := make([]byte, 10<<20+3)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	var sums [][]byte
	for off := 0; off < len(data); off += blockSize {
		h := s.PartHash(0)
		part := data[off:min(off+blockSize, len(data))]
		for c := 0; c < len(part); c += 1<<20 + 17 {
			h.Write(part[c:min(c+1<<20+17, len(part))])
		}
		sums = append(sums, h.Sum(nil))
	}
	whole := s.PartHash(0)
	whole.Write(data)
	want := s.ObjectETag([][]byte{whole.Sum(nil)}, int64(len(data)), int64(len(data)), false)
	if got := s.ObjectETag(sums, int64(len(data)), blockSize, true); got != want || got == "" {
		t.Errorf("ObjectETag of 3 parts = %q, whole object = %q", got, want)
	}
	// 8 MiB parts are two blocks each: still predictable.
	var sums8 [][]byte
	for off := 0; off < len(data); off += 2 * blockSize {
		h := s.PartHash(0)
		h.Write(data[off:min(off+2*blockSize, len(data))])
		sums8 = append(sums8, h.Sum(nil))
	}
	if got := s.ObjectETag(sums8, int64(len(data)), 2*blockSize, true); got != want {
		t.Errorf("ObjectETag of 8 MiB parts = %q, want %q", got, want)
	}
	// A part size off the 4 MiB grid cannot be predicted.
	if got := s.ObjectETag(sums, int64(len(data)), 3<<20, true); got != "" {
		t.Errorf("ObjectETag with 3 MiB parts = %q, want \"\"", got)
	}
	// A lone part of any part size is the whole object.
	if got := s.ObjectETag([][]byte{whole.Sum(nil)}, int64(len(data)), 4, true); got != want {
		t.Errorf("ObjectETag of one part = %q, want %q", got, want)
	}
	// Sums that do not hold one digest per block are rejected.
	if got := s.ObjectETag(sums[:2], int64(len(data)), blockSize, true); got != "" {
		t.Errorf("ObjectETag with a missing part = %q, want \"\"", got)
	}
}

func TestStore_PartETag(t *testing.T) {
	s := &Store{}
	a4 := bytes.Repeat([]byte("a"), 4<<20)
	for _, c := range []struct {
		data []byte
		want string
	}{
		{a4, "7BD6-l3nojPCKibUkfMIh2tBrj8="},
		{[]byte("xyz"), "ZrJ0F9N-AkxGUmwvbTWKdU_FUvM="},
	} {
		h := s.PartHash(0)
		h.Write(c.data)
		if got := s.PartETag(h.Sum(nil), int64(len(c.data))); got != c.want {
			t.Errorf("PartETag(%d bytes) = %q, want %q", len(c.data), got, c.want)
		}
	}
	h := s.PartHash(0)
	h.Write(append(append([]byte{}, a4...), 'x'))
	if got := s.PartETag(h.Sum(nil), 4<<20+1); got != "" {
		t.Errorf("PartETag of a two-block part = %q, want \"\"", got)
	}
}

func TestBlockHash_Sum(t *testing.T) {
	h := newBlockHash()
	data := bytes.Repeat([]byte{1, 2, 3}, (blockSize+10)/3)
	h.Write(data)
	got := h.Sum([]byte("pre"))
	b0 := sha1.Sum(data[:blockSize])
	b1 := sha1.Sum(data[blockSize:])
	want := append(append([]byte("pre"), b0[:]...), b1[:]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("Sum = %x, want prefix + two block SHA-1s %x", got, want)
	}
	if again := h.Sum(nil); !bytes.Equal(again, want[3:]) {
		t.Fatalf("Sum changed the state: %x", again)
	}
	h.Reset()
	empty := sha1.Sum(nil)
	if got := h.Sum(nil); !bytes.Equal(got, empty[:]) {
		t.Fatalf("Sum after Reset = %x, want SHA1(\"\") %x", got, empty)
	}
}
