package fetch

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs/us3"
	"github.com/ferry-project/ferry/test/us3emu"
)

// origin is a real HTTP server on loopback serving one blob per path, with
// switchable behaviour, and counters of what it was asked.
type origin struct {
	URL string

	mu    sync.Mutex
	blobs map[string][]byte
	// Per path: "noranges" (no Range support, whole body), "liar"
	// (advertises ranges, ignores them), "chunked" (no length anywhere),
	// "404", "reset" (every connection reset), "flaky" (no ranges; the
	// first GET's body breaks half-way), "flakyranged" (the first ranged
	// GET's body breaks after 1000 bytes).
	mode map[string]string

	gets, ranged, heads        atomic.Int64
	inflight, maxIn            atomic.Int64
	flakyDone, flakyRangedDone atomic.Bool
}

func startOrigin(t testing.TB) *origin {
	t.Helper()
	o := &origin{blobs: map[string][]byte{}, mode: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(srv.Close)
	o.URL = srv.URL
	return o
}

// add serves data at path with mode ("" normal, with ranges) and returns its URL.
func (o *origin) add(path string, data []byte, mode string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.blobs[path], o.mode[path] = data, mode
	return o.URL + path
}

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
	n := o.inflight.Add(1)
	defer o.inflight.Add(-1)
	for {
		m := o.maxIn.Load()
		if n <= m || o.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	if r.Method == http.MethodHead {
		o.heads.Add(1)
	} else {
		o.gets.Add(1)
		if r.Header.Get("Range") != "" {
			o.ranged.Add(1)
		}
	}
	o.mu.Lock()
	data, ok := o.blobs[r.URL.Path]
	mode := o.mode[r.URL.Path]
	o.mu.Unlock()
	switch {
	case !ok || mode == "404":
		http.NotFound(w, r)
	case mode == "reset":
		resetConn(w)
	case mode == "noranges", mode == "liar":
		if mode == "liar" {
			w.Header().Set("Accept-Ranges", "bytes")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(data)
		}
	case mode == "chunked":
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			for i := 0; i < len(data); i += 100000 {
				w.Write(data[i:min(i+100000, len(data))])
				w.(http.Flusher).Flush()
			}
		}
	case mode == "flaky" && r.Method == http.MethodGet && o.flakyDone.CompareAndSwap(false, true):
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		resetConn(w)
	case mode == "flaky":
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(data)
		}
	case mode == "flakyranged" && r.Header.Get("Range") != "" && o.flakyRangedDone.CompareAndSwap(false, true):
		http.ServeContent(&cutWriter{ResponseWriter: w, left: 1000}, r, "", time.Time{}, bytes.NewReader(data))
	default:
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}
}

// cutWriter resets the connection after left bytes of body.
type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) <= c.left {
		c.left -= len(p)
		return c.ResponseWriter.Write(p)
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	c.left = 0
	c.ResponseWriter.(http.Flusher).Flush()
	resetConn(c.ResponseWriter)
	return n, io.ErrClosedPipe
}

// resetConn closes the client's connection with a TCP reset.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// us3ETag computes US3's ETag of b independently of the driver: with n
// 4 MiB blocks, base64url(LE32(n) ‖ SHA1(block) or SHA1(SHA1s of blocks)).
func us3ETag(b []byte) string {
	const blk = 4 << 20
	n := (len(b) + blk - 1) / blk
	out := binary.LittleEndian.AppendUint32(nil, uint32(n))
	if n <= 1 {
		s := sha1.Sum(b)
		out = append(out, s[:]...)
	} else {
		var all []byte
		for i := 0; i < len(b); i += blk {
			s := sha1.Sum(b[i:min(i+blk, len(b))])
			all = append(all, s[:]...)
		}
		s := sha1.Sum(all)
		out = append(out, s[:]...)
	}
	return base64.URLEncoding.EncodeToString(out)
}

// startEmuSink starts the US3 emulator and returns a Store on its bucket.
func startEmuSink(t testing.TB) *us3.Store {
	t.Helper()
	_, endpoint := us3emu.StartForTest(t, us3emu.Options{})
	s, err := us3.New(context.Background(), us3.Config{PublicKey: us3emu.TestPublicKey, PrivateKey: us3emu.TestPrivateKey,
		Bucket: us3emu.TestBucket, Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readStored reads key back from a US3 store through its Tree side.
func readStored(t testing.TB, s *us3.Store, key string) []byte {
	t.Helper()
	ctx := context.Background()
	e, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatalf("stat stored %s: %v", key, err)
	}
	f, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, 0, e.Size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
