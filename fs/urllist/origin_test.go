package urllist

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Modes of an origin.
const (
	modeRanges  = iota // http.ServeContent: HEAD, Accept-Ranges, 206
	modeIgnore         // every GET answered 200 with the whole body; HEAD without Accept-Ranges
	modeChunked        // like modeIgnore, without Content-Length
	modeNoHead         // like modeRanges, but HEAD answers 405
)

// originTime is the Last-Modified every origin file has.
var originTime = time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)

// versioning is how an origin names the versions of its files (replace
// makes a new one) and how it treats conditional requests. The zero value
// sends Last-Modified and honours If-Match, If-Range and the rest.
type versioning struct {
	etag        bool // send a strong ETag per version besides Last-Modified
	noLastMod   bool // send no Last-Modified
	ignoreIf    bool // ignore every If-* header
	ifRangeOnly bool // honour If-Range only: a change gives 200 and the new version
}

// origin is a real HTTP server on 127.0.0.1 serving files by decoded URL
// path. Paths under /reset/ reset the connection; /flaky/ paths answer 503
// to their first two requests; /cut/ paths break the body of their first
// GET half-way.
type origin struct {
	*httptest.Server
	mode int

	mu      sync.Mutex
	files   map[string][]byte
	counts  map[string]int // "METHOD /path" → requests
	vers    versioning
	gen     map[string]int // version of a path (0 the first)
	pending map[string]replacement
}

// replacement is a new version of a file, served from GET number after+1.
type replacement struct {
	after int
	data  []byte
}

func newOrigin(t *testing.T, mode int, files map[string][]byte) *origin {
	t.Helper()
	o := &origin{mode: mode, files: files, counts: map[string]int{}, gen: map[string]int{}, pending: map[string]replacement{}}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.Close)
	return o
}

// host is the origin's first key segment: "127.0.0.1:port".
func (o *origin) host() string { return strings.TrimPrefix(o.URL, "http://") }

// url returns the URL of a decoded path ("/a b" → ".../a%20b").
func (o *origin) url(p string) string {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return o.URL + "/" + strings.Join(segs, "/")
}

// count returns how many requests method sent to path ("" = any path);
// method "COND" counts requests with If-Match or If-Unmodified-Since.
func (o *origin) count(method, path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if path != "" {
		return o.counts[method+" "+path]
	}
	n := 0
	for k, v := range o.counts {
		if strings.HasPrefix(k, method+" ") {
			n += v
		}
	}
	return n
}

func (o *origin) setFile(p string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if data == nil {
		delete(o.files, p)
		return
	}
	o.files[p] = data
}

// setVersioning sets how the origin names versions; call it before the
// tree is opened.
func (o *origin) setVersioning(v versioning) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.vers = v
}

// replace serves data as a new version of p from the GET after the next
// after GETs of p on: after 0 replaces it at once.
func (o *origin) replace(p string, after int, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending[p] = replacement{after: o.counts["GET "+p] + after, data: data}
}

// validate sets the headers that name version gen and strips from r the
// conditions the origin ignores; it returns the Last-Modified time (zero
// when none is sent).
func (v versioning) validate(w http.ResponseWriter, r *http.Request, gen int) time.Time {
	if v.etag {
		w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, gen))
	}
	for _, h := range []string{"If-Match", "If-None-Match", "If-Unmodified-Since", "If-Modified-Since", "If-Range"} {
		if v.ignoreIf || (v.ifRangeOnly && h != "If-Range") {
			r.Header.Del(h)
		}
	}
	if v.noLastMod {
		return time.Time{}
	}
	return originTime.Add(time.Duration(gen) * time.Second)
}

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.counts[r.Method+" "+r.URL.Path]++
	if r.Header.Get("If-Match") != "" || r.Header.Get("If-Unmodified-Since") != "" {
		o.counts["COND "+r.URL.Path]++
	}
	n := o.counts[r.Method+" "+r.URL.Path]
	gets := o.counts["GET "+r.URL.Path]
	if rp, ok := o.pending[r.URL.Path]; ok && r.Method == http.MethodGet && gets > rp.after {
		o.files[r.URL.Path] = rp.data
		o.gen[r.URL.Path]++
		delete(o.pending, r.URL.Path)
	}
	data, ok := o.files[r.URL.Path]
	modtime := o.vers.validate(w, r, o.gen[r.URL.Path])
	o.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/reset/"):
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
		return
	case strings.HasPrefix(r.URL.Path, "/flaky/") && n <= 2:
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	case !ok:
		http.NotFound(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/cut/") && r.Method == http.MethodGet && gets == 1:
		w = &cutWriter{ResponseWriter: w, left: 1000}
	}
	switch o.mode {
	case modeNoHead:
		if r.Method == http.MethodHead {
			http.Error(w, "no HEAD here", http.StatusMethodNotAllowed)
			return
		}
		fallthrough
	case modeRanges:
		http.ServeContent(w, r, "", modtime, bytes.NewReader(data))
	case modeIgnore, modeChunked:
		if !modtime.IsZero() {
			w.Header().Set("Last-Modified", modtime.Format(http.TimeFormat))
		}
		if o.mode == modeIgnore {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		}
		if r.Method == http.MethodHead {
			return
		}
		for len(data) > 0 { // several writes: chunked responses use chunks
			k := min(len(data), 100_000)
			w.Write(data[:k])
			data = data[k:]
			w.(http.Flusher).Flush()
		}
	}
}

// cutWriter aborts the response after left body bytes.
type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) > c.left {
		c.ResponseWriter.Write(p[:c.left])
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	c.left -= len(p)
	return c.ResponseWriter.Write(p)
}

// writeList writes lines to a list file in a test directory.
func writeList(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testOptions retries fast and logs to the test.
func testOptions(t *testing.T) Options {
	return Options{
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
		TempDir:      t.TempDir(),
		SQLite:       "sqlite3",
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// openTree opens a list with testOptions and closes it after the test.
func openTree(t *testing.T, list string, o Options) *Tree {
	t.Helper()
	tree, err := Open(context.Background(), list, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := tree.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tree
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// readAll reads a whole file of size n through io.NewSectionReader.
func readAll(f io.ReaderAt, n int64) ([]byte, error) {
	return io.ReadAll(io.NewSectionReader(f, 0, n))
}
