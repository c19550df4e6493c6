package urllist

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// randomBytes returns n deterministic bytes without a period.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{'u', 'r', 'l'}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// openFile opens path and closes it after the test.
func openFile(t *testing.T, tree fs.Tree, path string) fs.File {
	t.Helper()
	f, err := tree.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkRandomReads does ReadAt calls at random offsets, backward and
// forward jumps included, and compares the bytes.
func checkRandomReads(t *testing.T, f fs.File, data []byte, calls int) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < calls; i++ {
		off := r.IntN(len(data) + 10)
		p := make([]byte, 1+r.IntN(200_000))
		n, err := f.ReadAt(p, int64(off))
		want := max(0, min(len(p), len(data)-off))
		if n != want || (n < len(p) && !errors.Is(err, io.EOF)) || (n == len(p) && err != nil && !errors.Is(err, io.EOF)) {
			t.Fatalf("ReadAt(len %d, off %d) of %d bytes: n = %d, err = %v; want n = %d", len(p), off, len(data), n, err, want)
		}
		if !bytes.Equal(p[:n], data[min(off, len(data)):min(off, len(data))+n]) {
			t.Fatalf("ReadAt(len %d, off %d): wrong bytes", len(p), off)
		}
	}
}

func TestFile_ReadAtServerIgnoresRange(t *testing.T) {
	data := randomBytes(3<<20 + 17)
	o := newOrigin(t, modeIgnore, map[string][]byte{"/big.bin": data, "/tsv.bin": data})
	list := writeList(t, o.url("/big.bin"))
	tree := openTree(t, list, testOptions(t))
	path := o.host() + "/big.bin"
	if !tree.SequentialOnly(path) {
		t.Errorf("SequentialOnly(%q) = false for a server without Accept-Ranges", path)
	}
	checkRandomReads(t, openFile(t, tree, path), data, 40)

	// Listed in a TSV: no HEAD, so ranges are assumed until a read shows
	// the server answers a Range with the whole body.
	tsv := openTree(t, writeList(t, TSVHeader, fmt.Sprintf("%s\t%d", o.url("/tsv.bin"), len(data))), testOptions(t))
	path = o.host() + "/tsv.bin"
	if tsv.SequentialOnly(path) {
		t.Errorf("SequentialOnly(%q) = true before any read", path)
	}
	f := openFile(t, tsv, path)
	checkRandomReads(t, f, data, 40)
	if !tsv.SequentialOnly(path) {
		t.Errorf("SequentialOnly(%q) = false after the server ignored a Range", path)
	}
	if n := o.count("HEAD", "/tsv.bin"); n != 0 {
		t.Errorf("%d HEAD requests for a TSV-listed URL, want 0", n)
	}
	// A forward reader is served by one body: no new request per ReadAt.
	before := o.count("GET", "/tsv.bin")
	if got, err := readAll(f, int64(len(data))); err != nil || !bytes.Equal(got, data) {
		t.Errorf("sequential read: %d bytes, err %v; want the %d bytes served", len(got), err, len(data))
	}
	if n := o.count("GET", "/tsv.bin") - before; n != 1 {
		t.Errorf("reading the whole file forward took %d GETs, want 1", n)
	}
}

func TestFile_ReadAtForwardReusesResponse(t *testing.T) {
	data := randomBytes(3 << 20)
	o := newOrigin(t, modeRanges, map[string][]byte{"/f.bin": data})
	tree := openTree(t, writeList(t, o.url("/f.bin")), testOptions(t))
	f := openFile(t, tree, o.host()+"/f.bin")
	// io.SectionReader + io.ReadAll read 512 bytes and more at a time.
	got, err := readAll(f, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %d bytes, %v", len(got), err)
	}
	if n := o.count("GET", "/f.bin"); n != 1 {
		t.Errorf("reading %d bytes forward took %d ranged GETs, want 1", len(data), n)
	}
	checkRandomReads(t, f, data, 30)
}

func TestFile_ReadAtResumesBrokenBody(t *testing.T) {
	for _, mode := range []int{modeRanges, modeIgnore} {
		data := randomBytes(1 << 20)
		o := newOrigin(t, mode, map[string][]byte{"/cut/f.bin": data})
		tree := openTree(t, writeList(t, o.url("/cut/f.bin")), testOptions(t))
		f := openFile(t, tree, o.host()+"/cut/f.bin")
		got, err := readAll(f, int64(len(data)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("mode %d: read through a body cut after 1000 bytes: %d bytes, %v", mode, len(got), err)
		}
		if n := o.count("GET", "/cut/f.bin"); n != 2 {
			t.Errorf("mode %d: %d GETs, want 2 (the cut one and its resumption)", mode, n)
		}
	}
}

func TestFile_ReadAtSizeMismatch(t *testing.T) {
	data := []byte(strings.Repeat("0123456789", 5))
	for _, mode := range []int{modeRanges, modeIgnore, modeChunked} {
		o := newOrigin(t, mode, map[string][]byte{"/f": data})
		for _, listed := range []int{30, 100} {
			tree := openTree(t, writeList(t, TSVHeader, fmt.Sprintf("%s\t%d", o.url("/f"), listed)), testOptions(t))
			f := openFile(t, tree, o.host()+"/f")
			p := make([]byte, listed)
			_, err := f.ReadAt(p, 0)
			if !errors.Is(err, ErrSizeMismatch) {
				t.Errorf("mode %d, %d bytes listed as %d: err = %v, want ErrSizeMismatch", mode, len(data), listed, err)
			}
		}
	}
	// Chunked, correct size: no false alarm.
	o := newOrigin(t, modeChunked, map[string][]byte{"/f": data})
	tree := openTree(t, writeList(t, TSVHeader, fmt.Sprintf("%s\t%d", o.url("/f"), len(data))), testOptions(t))
	f := openFile(t, tree, o.host()+"/f")
	if got, err := readAll(f, int64(len(data))); err != nil || !bytes.Equal(got, data) {
		t.Errorf("chunked body of the listed size: %q, %v", got, err)
	}
}

func TestFile_ReadAtErrors(t *testing.T) {
	o := newOrigin(t, modeRanges, map[string][]byte{"/later-gone": []byte("here at listing time"), "/x": []byte("xyz")})
	tree := openTree(t, writeList(t, o.url("/later-gone"), o.url("/x")), testOptions(t))
	f := openFile(t, tree, o.host()+"/later-gone")
	o.setFile("/later-gone", nil)
	_, err := f.ReadAt(make([]byte, 4), 0)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), o.url("/later-gone")) {
		t.Errorf("ReadAt of a URL gone since listing: err = %v, want fs.ErrNotExist naming the URL", err)
	}
	if n := o.count("GET", "/later-gone"); n != 1 {
		t.Errorf("a 404 was requested %d times, want 1 (never retried)", n)
	}

	g := openFile(t, tree, o.host()+"/x")
	if _, err := g.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset: no error")
	}
	g.Close()
	if _, err := g.ReadAt(make([]byte, 1), 0); !errors.Is(err, errClosed) {
		t.Errorf("ReadAt after Close: err = %v, want a closed-file error", err)
	}
}

func TestFile_ReadAtStoredBytes(t *testing.T) {
	// An object stored gzipped and served with "Content-Encoding: gzip"
	// (as S3 does for such objects), by a server without Range support:
	// the tree must copy the stored bytes, not inflate them.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Repeat("compressible ", 1000)))
	zw.Close()
	stored := buf.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", fmt.Sprint(len(stored)))
		if r.Method == http.MethodGet {
			w.Write(stored)
		}
	}))
	defer srv.Close()
	tree := openTree(t, writeList(t, srv.URL+"/z.txt.gz"), testOptions(t))
	path := strings.TrimPrefix(srv.URL, "http://") + "/z.txt.gz"
	e, err := tree.Stat(context.Background(), path)
	if err != nil || e.Size != int64(len(stored)) {
		t.Fatalf("Stat = %+v, %v; want size %d", e, err, len(stored))
	}
	got, err := readAll(openFile(t, tree, path), e.Size)
	if err != nil || !bytes.Equal(got, stored) {
		t.Errorf("read %d bytes, %v; want the %d stored bytes", len(got), err, len(stored))
	}
}
