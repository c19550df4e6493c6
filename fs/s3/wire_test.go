package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/stall/stalltest"
	"github.com/ferry-project/ferry/test/miniotest"
)

// seenRequest is what the recording server saw of one request.
type seenRequest struct {
	method, host, rawPath, query string
	header                       http.Header
	body                         []byte
}

// recorder is a loopback HTTP server that records requests and answers
// PUTs with the body's MD5 as ETag and GETs with a fixed object's range.
type recorder struct {
	mu   sync.Mutex
	seen []seenRequest
	obj  []byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.seen = append(rec.seen, seenRequest{r.Method, r.Host, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
	rec.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		sum := md5.Sum(body)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	case http.MethodGet:
		var first, last int
		_, _ = fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(rec.obj)))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(rec.obj[first : last+1])
	}
}

func (rec *recorder) last(t *testing.T) seenRequest {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) == 0 {
		t.Fatal("no request reached the server")
	}
	return rec.seen[len(rec.seen)-1]
}

// summed is a body that carries its MD5, as the engine's bodies do.
type summed struct {
	*bytes.Reader
	sum []byte
}

func (s summed) PartSum() []byte { return s.sum }

// TestWire_Requests checks the requests the data path sends, over plain
// HTTP and TLS, path-style and virtual-host: the bucket's host and path,
// keys escaped as the SDK escapes them, a v4 Authorization, the payload
// hash (SHA-256 of the body over plain HTTP, UNSIGNED-PAYLOAD with a
// Content-MD5 or over TLS), and ranged reads pinned to the ETag.
func TestWire_Requests(t *testing.T) {
	obj := []byte("0123456789abcdefghij")
	for _, tc := range []struct {
		name      string
		tls, path bool
	}{{"http path-style", false, true}, {"http virtual-host", false, false}, {"https virtual-host", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{obj: obj}
			srv := httptest.NewUnstartedServer(rec)
			scheme := "http"
			if tc.tls {
				srv.StartTLS()
				scheme = "https"
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			// example.com (the test certificate's name): the client dials the
			// loopback server whatever the host, so virtual-host
			// addressing can be seen in the Host header.
			hc := srv.Client()
			tr := hc.Transport.(*http.Transport).Clone()
			tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
			}
			hc = &http.Client{Transport: tr}
			st, err := New(context.Background(), Config{Endpoint: scheme + "://example.com:" + port, Region: "eu-west-3",
				AccessKey: "AKID", SecretKey: "SECRET", Bucket: "bkt", Prefix: "p", PathStyle: tc.path, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			host, pathPrefix := "bkt.example.com:"+port, "/p/"
			if tc.path {
				host, pathPrefix = "example.com:"+port, "/bkt/p/"
			}
			const key = "dir/a b+c%d#é"
			const escaped = "dir/a%20b%2Bc%25d%23%C3%A9"
			ctx := context.Background()

			body := []byte("hello, wire")
			if _, err := st.Put(ctx, key, bytes.NewReader(body), int64(len(body))); err != nil {
				t.Fatal(err)
			}
			r := rec.last(t)
			if r.method != http.MethodPut || r.host != host || r.rawPath != pathPrefix+escaped || r.query != "" {
				t.Errorf("put went to %s %s%s?%s, want PUT %s%s", r.method, r.host, r.rawPath, r.query, host, pathPrefix+escaped)
			}
			if !bytes.Equal(r.body, body) {
				t.Errorf("put sent %q, want %q", r.body, body)
			}
			auth := r.header.Get("Authorization")
			if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(auth, "/eu-west-3/s3/aws4_request") ||
				strings.Contains(auth, "SECRET") {
				t.Errorf("Authorization %q: want a v4 signature for AKID in eu-west-3", auth)
			}
			sha := sha256.Sum256(body)
			wantPayload := hex.EncodeToString(sha[:])
			if tc.tls {
				wantPayload = unsignedPayload
			}
			if got := r.header.Get("X-Amz-Content-Sha256"); got != wantPayload {
				t.Errorf("payload hash without an MD5: %q, want %q", got, wantPayload)
			}
			if r.header.Get("Content-MD5") != "" {
				t.Errorf("Content-MD5 sent for a body without a sum")
			}

			sum := md5.Sum(body)
			part, err := st.UploadPart(ctx, key, "up/1=", 4, summed{bytes.NewReader(body), sum[:]}, int64(len(body)))
			if err != nil {
				t.Fatal(err)
			}
			r = rec.last(t)
			if r.rawPath != pathPrefix+escaped || r.query != "partNumber=5&uploadId=up%2F1%3D" {
				t.Errorf("upload part went to %s?%s", r.rawPath, r.query)
			}
			if got := r.header.Get("X-Amz-Content-Sha256"); got != unsignedPayload {
				t.Errorf("payload hash with an MD5: %q, want UNSIGNED-PAYLOAD", got)
			}
			if got := r.header.Get("Content-MD5"); got != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Errorf("Content-MD5 %q", got)
			}
			if part.ETag != hex.EncodeToString(sum[:]) || part.Number != 4 || part.Size != int64(len(body)) {
				t.Errorf("part %+v", part)
			}

			f, err := st.OpenEntry(ctx, fs.Entry{Path: key, Size: int64(len(obj)), ETag: "abc"})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			buf := make([]byte, 5)
			if n, err := f.ReadAt(buf, 3); err != nil || string(buf[:n]) != "34567" {
				t.Fatalf("ReadAt(5 at 3) = %q, %v", buf[:n], err)
			}
			r = rec.last(t)
			if r.method != http.MethodGet || r.rawPath != pathPrefix+escaped || r.header.Get("Range") != "bytes=3-7" ||
				r.header.Get("If-Match") != `"abc"` || r.header.Get("X-Amz-Content-Sha256") != emptySHA256 {
				t.Errorf("read sent %s %s Range %q If-Match %q payload %q", r.method, r.rawPath, r.header.Get("Range"),
					r.header.Get("If-Match"), r.header.Get("X-Amz-Content-Sha256"))
			}
		})
	}
}

// TestWire_ContentMD5: against MinIO, a body whose bytes do not match the
// MD5 it carries is refused (BadDigest) and nothing is stored; a body
// that matches is stored with that MD5 as its ETag.
func TestWire_ContentMD5(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "digest")
	st := newStore(t, srv, "digest", "")
	body := []byte("the bytes that were read")
	sum := md5.Sum(body)
	damaged := append([]byte(nil), body...)
	damaged[3] ^= 1

	_, err := st.Put(ctx, "k", summed{bytes.NewReader(damaged), sum[:]}, int64(len(damaged)))
	if err == nil || apiCode(err) != "BadDigest" {
		t.Fatalf("put of damaged bytes: %v, want BadDigest", err)
	}
	if _, err := st.Head(ctx, "k"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after a refused put, head: %v, want not found", err)
	}
	info, err := st.Put(ctx, "k", summed{bytes.NewReader(body), sum[:]}, int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if info.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("ETag %q, want %x", info.ETag, sum)
	}
	if got := readFile(t, st, "k"); !bytes.Equal(got, body) {
		t.Errorf("stored %q", got)
	}
}

// TestWire_Stalled: a server that stops sending a GET's body, or stops
// taking a PUT's body, does not hold the caller: once no byte has moved
// for the stall timeout the request fails with stall.ErrStalled, an error
// the engine retries.
func TestWire_Stalled(t *testing.T) {
	srv := stalltest.Server(t)
	st, err := New(context.Background(), Config{Endpoint: srv.URL, AccessKey: "AKID", SecretKey: "SECRET", Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	st.wire.stall = 200 * time.Millisecond
	stalltest.Check(t, st)
}
