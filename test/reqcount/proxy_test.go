package reqcount

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOp(t *testing.T) {
	for _, c := range []struct {
		method, target, copySrc, want string
	}{
		{"GET", "/", "", "ListBuckets"},
		{"HEAD", "/b", "", "HeadBucket"},
		{"PUT", "/b", "", "CreateBucket"},
		{"GET", "/b?list-type=2&prefix=p%2F", "", "ListObjectsV2"},
		{"GET", "/b/?location", "", "GetBucketLocation"},
		{"GET", "/b?prefix=a", "", "ListObjects"},
		{"POST", "/b?delete", "", "DeleteObjects"},
		{"GET", "/b/k/x?x-id=GetObject", "", "GetObject"},
		{"GET", "/b/k", "", "GetObject"},
		{"HEAD", "/b/k", "", "HeadObject"},
		{"PUT", "/b/k?x-id=PutObject", "", "PutObject"},
		{"PUT", "/b/k", "/b/j", "CopyObject"},
		{"POST", "/b/k?uploads", "", "CreateMultipartUpload"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "", "UploadPart"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "/b/j", "UploadPartCopy"},
		{"POST", "/b/k?uploadId=u", "", "CompleteMultipartUpload"},
		{"DELETE", "/b/k?uploadId=u", "", "AbortMultipartUpload"},
		{"GET", "/b/k?uploadId=u", "", "ListParts"},
		{"DELETE", "/b/k", "", "DeleteObject"},
		{"GET", "/b/k?tagging", "", "GET object ?tagging"},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.copySrc != "" {
			r.Header.Set("X-Amz-Copy-Source", c.copySrc)
		}
		if got := Op(r); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.target, got, c.want)
		}
	}
}

// TestProxy forwards to a real HTTP server on loopback, counts what it
// forwarded and holds two concurrent downloads together to the rate.
func TestProxy(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 256<<10)
	var hosts sync.Map
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host, true)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(body)
	}))
	defer up.Close()
	p, err := Start(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	get := func(method, path string) {
		req, _ := http.NewRequest(method, p.URL()+path, strings.NewReader("payload"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != int64(len(body)) {
			t.Errorf("%s %s: %d bytes, want %d", method, path, n, len(body))
		}
	}
	get("PUT", "/b/k")
	get("GET", "/b/k")
	if c := p.Counts(); c["PutObject"] != 1 || c["GetObject"] != 1 || p.Total() != 2 {
		t.Fatalf("counts %v", c)
	}
	if _, ok := hosts.Load(strings.TrimPrefix(p.URL(), "http://")); !ok {
		t.Error("the Host header was not forwarded unchanged")
	}
	p.Reset()
	if p.Total() != 0 {
		t.Fatalf("after Reset: %v", p.Counts())
	}

	p.SetRate(1 << 20) // two 256 KiB bodies together: at least 0.5 s
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { get("GET", "/b/k") })
	}
	wg.Wait()
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("two 256 KiB downloads at 1 MiB/s took %s, want ≥ 0.5 s", d)
	}
}
