package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ferry-project/ferry/test/miniotest"
)

// dialCounter is an HTTP client whose transport counts the connections it
// opens.
func dialCounter() (*http.Client, *atomic.Int64) {
	var dials atomic.Int64
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	d := &net.Dialer{}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: t}, &dials
}

func storeWith(t *testing.T, endpoint string, srv *miniotest.Server, bucket string, hc *http.Client) *Store {
	t.Helper()
	st, err := New(context.Background(), Config{
		Provider: "minio", Endpoint: endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: bucket, HTTPClient: hc,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return st
}

// TestFile_ReadAt_ReusesConnections: ranged reads, in sequence or a few at
// once, go over a few pooled connections, not one per read.
func TestFile_ReadAt_ReusesConnections(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "reuse")
	data := make([]byte, 3<<20+17)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	upload(t, srv, "reuse", map[string][]byte{"big": data})
	hc, dials := dialCounter()
	st := storeWith(t, srv.Endpoint, srv, "reuse", hc)
	f, err := st.Open(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	// In sequence, the last read running past the end.
	p := make([]byte, 256<<10)
	for off := int64(0); ; off += int64(len(p)) {
		n, err := f.ReadAt(p, off)
		if !bytes.Equal(p[:n], data[off:off+int64(n)]) {
			t.Fatalf("ReadAt at %d: wrong bytes", off)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("ReadAt at %d: %v", off, err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections for Open and 13 reads in sequence, want 1", n)
	}

	// Four at a time, eight rounds.
	before := dials.Load()
	for round := 0; round < 8; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				off := int64(i) * (512 << 10)
				q := make([]byte, 512<<10)
				if n, err := f.ReadAt(q, off); err != nil || !bytes.Equal(q[:n], data[off:off+int64(n)]) {
					t.Errorf("ReadAt at %d: %d, %v", off, n, err)
				}
			}()
		}
		wg.Wait()
	}
	if n := dials.Load() - before; n > 4 {
		t.Errorf("%d new connections for 32 reads four at a time, want at most 4", n)
	}
}

// TestFile_ReadAt_RangeIgnored: a store (here a proxy in front of MinIO)
// that answers a ranged GET with the whole object fails the read instead of
// handing back bytes from the wrong offset.
func TestFile_ReadAt_RangeIgnored(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "norange")
	data := []byte(strings.Repeat("0123456789", 1000))
	upload(t, srv, "norange", map[string][]byte{"f": data})
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode != http.StatusPartialContent {
			return nil
		}
		resp.Body.Close()
		resp.StatusCode, resp.Status = http.StatusOK, "200 OK"
		resp.Header.Del("Content-Range")
		resp.Header.Set("Content-Length", fmt.Sprint(len(data)))
		resp.ContentLength = int64(len(data))
		resp.Body = io.NopCloser(bytes.NewReader(data))
		return nil
	}
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	st := storeWith(t, ps.URL, srv, "norange", nil)
	f, err := st.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := make([]byte, 5)
	if n, err := f.ReadAt(p, 3); err == nil {
		t.Errorf("ReadAt(5 bytes at 3) through a store ignoring Range = %d %q, nil; want an error", n, p[:n])
	}
	// The whole object is a plain 200 anyway: that read is fine.
	all := make([]byte, len(data))
	if n, err := f.ReadAt(all, 0); n != len(data) || err != nil || !bytes.Equal(all, data) {
		t.Errorf("ReadAt(whole object) = %d, %v", n, err)
	}
}
