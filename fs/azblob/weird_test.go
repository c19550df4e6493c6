package azblob

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/stall"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// TestStore_FolderBlobs: the directory blobs of a hierarchical-namespace
// account (zero bytes, hdi_isfolder=true) are directories, never files.
func TestStore_FolderBlobs(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "hns")
	ctx := context.Background()
	cc := srv.Client().NewContainerClient("hns")
	yes := "true"
	if _, err := cc.NewBlockBlobClient("dir").UploadBuffer(ctx, nil, &blockblob.UploadBufferOptions{Metadata: map[string]*string{"hdi_isfolder": &yes}}); err != nil {
		t.Fatal(err)
	}
	upload(t, srv, "hns", map[string][]byte{"dir/f.txt": []byte("f")})
	st := newStore(t, srv, "hns", "")
	if got := keys(walkAll(t, st, fs.All)); !slices.Equal(got, []string{"dir/f.txt"}) {
		t.Errorf("Walk = %q, want just dir/f.txt", got)
	}
	var root []fs.Entry
	if err := st.ReadDir(ctx, "", func(e fs.Entry) error { root = append(root, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(root) != 1 || root[0].Path != "dir" || !root[0].IsDir() {
		t.Errorf("ReadDir(root) = %+v, want the directory dir alone", root)
	}
}

// TestStore_LeasedDestination: a destination blob held by a lease refuses a
// Put with 412; that is not a changed source (fs.ErrChanged), and it is
// permanent.
func TestStore_LeasedDestination(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "leased")
	upload(t, srv, "leased", map[string][]byte{"held.txt": []byte("held")})
	ctx := context.Background()
	lc, err := lease.NewBlobClient(srv.Client().NewContainerClient("leased").NewBlobClient("held.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AcquireLease(ctx, -1, nil); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, srv, "leased", "")
	data := []byte("new")
	_, err = st.Put(ctx, "held.txt", bytes.NewReader(data), int64(len(data)))
	if err == nil {
		t.Fatal("Put over a leased blob: no error")
	}
	t.Logf("Put over a leased blob: %v", err)
	if errors.Is(err, fs.ErrChanged) || !st.IsPermanent(err) {
		t.Errorf("Put over a leased blob = %v: want permanent, not fs.ErrChanged", err)
	}
}

// TestStore_Stall: a service that accepts the connection and then says
// nothing is abandoned after the stall timeout, as a transient error whose
// message shows no SAS signature.
func TestStore_Stall(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent
		}
	}()
	st, err := New(context.Background(), Config{Account: "stall", SASToken: "sv=1&sig=c2VjcmV0", Container: "c0c",
		Endpoint: "http://" + l.Addr().String() + "/stall"})
	if err != nil {
		t.Fatal(err)
	}
	st.tr.stall = 300 * time.Millisecond
	start := time.Now()
	err = st.Check(context.Background())
	if !errors.Is(err, stall.ErrStalled) || st.IsPermanent(err) {
		t.Fatalf("Check against a silent server = %v, want a transient stall", err)
	}
	if strings.Contains(err.Error(), "sig=") || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("stall error shows the SAS: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("stall noticed after %s", d)
	}
}

// TestError_NoSignature: an error that quotes a URL with a SAS shows the
// signature as REDACTED, whatever wrapped it.
func TestError_NoSignature(t *testing.T) {
	e := &Error{Op: "get blob", Name: "c/b", Err: errors.New(`Get "http://h/c/b?sv=1&SIG=c2VjcmV0%3D&se=2": EOF`)}
	if msg := e.Error(); strings.Contains(msg, "c2VjcmV0") || !strings.Contains(msg, "SIG=REDACTED&se=2") {
		t.Errorf("Error() = %q", msg)
	}
}

// TestStore_WalkStartFromRefused: a service that refuses the listing's
// startFrom (400) is asked again without it, and the ranged walk is whole.
func TestStore_WalkStartFromRefused(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "startfrom")
	upload(t, srv, "startfrom", map[string][]byte{"a": {1}, "ba": {2}, "bb": {3}, "bc": {4}, "c": {5}})
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int64
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host})
		r.Out.Host = target.Host
	}}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("startFrom") {
			refused.Add(1)
			w.Header().Set("x-ms-error-code", "InvalidQueryParameterValue")
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	st, err := New(context.Background(), Config{Account: srv.Account, Key: srv.Key, Endpoint: proxy.URL + target.Path, Container: "startfrom"})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(walkAll(t, st, fs.Range{Start: "bb"})); !slices.Equal(got, []string{"bb", "bc", "c"}) {
		t.Errorf("Walk(from bb) = %q, want [bb bc c]", got)
	}
	if refused.Load() != 1 {
		t.Errorf("startFrom refused %d times, want once (then listed without it)", refused.Load())
	}
}
