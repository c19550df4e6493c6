package us3emu

import (
	"bytes"
	"crypto/sha1"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

func etagOf(data []byte, chunk int) string {
	h := newETagHasher()
	for len(data) > 0 {
		n := min(chunk, len(data))
		h.Write(data[:n])
		data = data[n:]
	}
	return h.ETag()
}

func TestETagHasher_ETag(t *testing.T) {
	four := bytes.Repeat([]byte("a"), 4<<20)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "AAAAANo5o-5ea0sNMlW_75VgGJCv2AcJ"},
		{"hello world", []byte("hello world"), "AQAAACqubDXJT8-0FdvpX0CLnOke6Ebt"},
		{"4MiB of a", four, "AQAAAOwQ-vpd56Izwiom1JHzCIdrQa4_"},
		{"4MiB of a + xyz", append(append([]byte{}, four...), "xyz"...), "AgAAAKs71Id4J7Z4utcUv1cVb4nLBSJR"},
	}
	for _, c := range cases {
		for _, chunk := range []int{1 << 20, 7, 4<<20 + 3} {
			if c.name != "hello world" && c.name != "empty" && chunk == 7 {
				continue // byte-at-a-time over 4 MiB is slow under -race and adds nothing
			}
			if got := etagOf(c.data, chunk); got != c.want {
				t.Errorf("%s (chunk %d): got %s, want %s", c.name, chunk, got, c.want)
			}
		}
	}
}

// TestETagHasher_MatchesSDK checks the hasher against ufsdk.GetFileEtag at
// the block boundaries.
func TestETagHasher_MatchesSDK(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4<<20 - 1, 4 << 20, 4<<20 + 1, 8 << 20, 9<<20 + 17} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*31 + i>>13)
		}
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		want := ufsdk.GetFileEtag(p)
		if got := etagOf(data, 65536); got != want {
			t.Errorf("size %d: got %s, sdk %s", size, got, want)
		}
		if h := newETagHasher(); h.Size() != 0 {
			t.Fatal("new hasher not empty")
		}
	}
}

func TestPartETag(t *testing.T) {
	sum := sha1.Sum([]byte("hello world"))
	got := partETag(sum[:])
	if got != "Kq5sNclPz7QV2-lfQIuc6R7oRu0=" || len(got) != 28 || strings.ContainsAny(got, "+/") {
		t.Fatalf("part etag %q", got)
	}
}

func TestETagFromBlockSums(t *testing.T) {
	for _, size := range []int{0, 5, 4 << 20, 4<<20 + 1, 12 << 20} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i % 251)
		}
		var sums [][]byte
		for off := 0; off < size; off += etagBlock {
			s := sha1.Sum(data[off:min(size, off+etagBlock)])
			sums = append(sums, s[:])
		}
		if size == 0 {
			s := sha1.Sum(nil)
			sums = [][]byte{s[:]} // one empty part
		}
		if got, want := etagFromBlockSums(int64(size), sums), etagOf(data, 1<<20); got != want {
			t.Errorf("size %d: %s, want %s", size, got, want)
		}
	}
}
