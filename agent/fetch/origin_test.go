package fetch

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
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

	// Per path: how versions are named, the version served (0 the first),
	// the next version and when it comes, GETs so far, and a cut (the
	// body of the next GET breaks after that many bytes).
	vers    map[string]versioning
	gen     map[string]int
	pending map[string]replacement
	getsOf  map[string]int
	cuts    map[string]int
}

// versioning is how the origin names the versions of a path (replace
// makes a new one) and treats conditional requests. The zero value names
// none; ServeContent honours the conditions (If-Match, If-Range, …).
type versioning struct {
	etag        bool // send a strong ETag per version
	lastMod     bool // send Last-Modified per version
	ignoreIf    bool // ignore every If-* header
	ifRangeOnly bool // honour If-Range only: a change gives 200 and the new version
	churn       bool // every GET serves a new version (same bytes)
}

// replacement is a new version of a path, served from GET number after+1.
type replacement struct {
	after int
	data  []byte
}

func startOrigin(t testing.TB) *origin {
	t.Helper()
	o := &origin{blobs: map[string][]byte{}, mode: map[string]string{}, vers: map[string]versioning{},
		gen: map[string]int{}, pending: map[string]replacement{}, getsOf: map[string]int{}, cuts: map[string]int{}}
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

// setVersioning sets how path names its versions.
func (o *origin) setVersioning(path string, v versioning) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.vers[path] = v
}

// replace serves data as a new version of path from the GET after the
// next after GETs of path on: after 0 replaces it at once.
func (o *origin) replace(path string, after int, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending[path] = replacement{after: o.getsOf[path] + after, data: data}
}

// cut breaks the body of the next GET of path after n bytes.
func (o *origin) cut(path string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cuts[path] = n
}

// version applies what is due for a request of path (a replacement, a new
// version, a cut) and returns the data to serve, the writer to serve it
// with and its Last-Modified (zero: none).
func (o *origin) version(w http.ResponseWriter, r *http.Request) ([]byte, http.ResponseWriter, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, v := r.URL.Path, o.vers[r.URL.Path]
	if r.Method == http.MethodGet {
		o.getsOf[p]++
		if rp, ok := o.pending[p]; ok && o.getsOf[p] > rp.after {
			o.blobs[p] = rp.data
			o.gen[p]++
			delete(o.pending, p)
		} else if v.churn {
			o.gen[p]++
		}
		if n, ok := o.cuts[p]; ok {
			delete(o.cuts, p)
			w = &cutWriter{ResponseWriter: w, left: n}
		}
	}
	if v.etag {
		w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, o.gen[p]))
	}
	for _, h := range []string{"If-Match", "If-None-Match", "If-Unmodified-Since", "If-Modified-Since", "If-Range"} {
		if v.ignoreIf || (v.ifRangeOnly && h != "If-Range") {
			r.Header.Del(h)
		}
	}
	var modtime time.Time
	if v.lastMod {
		modtime = time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC).Add(time.Duration(o.gen[p]) * time.Second)
		w.Header().Set("Last-Modified", modtime.Format(http.TimeFormat))
	}
	return o.blobs[p], w, modtime
}

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
	// A request stops counting as in flight when its handler returns or
	// its client goes away, whichever is first: a handler still writing a
	// body its client abandoned (a server that ignored Range) is not a
	// request the client holds open.
	n := o.inflight.Add(1)
	var once sync.Once
	leave := func() { once.Do(func() { o.inflight.Add(-1) }) }
	defer leave()
	defer context.AfterFunc(r.Context(), leave)()
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
	_, ok := o.blobs[r.URL.Path]
	mode := o.mode[r.URL.Path]
	o.mu.Unlock()
	data, w, modtime := o.version(w, r)
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
		if mode == "liar" && r.Header.Get("Range") != "" {
			// A client abandons a whole body sent for a range at its
			// headers: from here on the request is not one it holds.
			w.(http.Flusher).Flush()
			leave()
		}
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
		http.ServeContent(&cutWriter{ResponseWriter: w, left: 1000}, r, "", modtime, bytes.NewReader(data))
	default:
		http.ServeContent(w, r, "", modtime, bytes.NewReader(data))
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
	_, s := startEmu(t)
	return s
}

// startEmu starts the US3 emulator and returns it with a Store on its bucket.
func startEmu(t testing.TB) (*us3emu.Server, *us3.Store) {
	t.Helper()
	emu, endpoint := us3emu.StartForTest(t, us3emu.Options{})
	s, err := us3.New(context.Background(), us3.Config{PublicKey: us3emu.TestPublicKey, PrivateKey: us3emu.TestPrivateKey,
		Bucket: us3emu.TestBucket, Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return emu, s
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
