package us3emu_test

import (
	"io"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ferry-project/ferry/test/us3emu"
)

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ off, n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 253)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// TestServer_StreamsLargeBodies PUTs and GETs 128 MiB: the process allocates
// far less than the object, so bodies are streamed, not buffered.
func TestServer_StreamsLargeBodies(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	const size = 128 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	req, _ := http.NewRequest("PUT", u.GenPresignedURL("large", time.Minute, "PUT"), &patternReader{n: size})
	req.ContentLength = size
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("put: %s", resp.Status)
	}
	resp, err = http.Get(u.GetPrivateURL("large", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := &patternReader{n: size}
	buf, wbuf := make([]byte, 1<<20), make([]byte, 1<<20)
	var got int64
	for {
		n, err := io.ReadFull(resp.Body, buf)
		if n > 0 {
			want.Read(wbuf[:n])
			if string(buf[:n]) != string(wbuf[:n]) {
				t.Fatalf("bytes differ near offset %d", got)
			}
			got += int64(n)
		}
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if got != size || resp.Header.Get("Content-Length") != strconv.Itoa(size) {
		t.Fatalf("got %d bytes, Content-Length %q", got, resp.Header.Get("Content-Length"))
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Fatalf("allocated %d MiB moving a %d MiB object", alloc>>20, size>>20)
	}
}
