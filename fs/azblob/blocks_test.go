package azblob

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// TestBlockName: every block ID Ferry stages has one raw length (Azure
// requires it within a blob) under Azure's 64, and parses back.
func TestBlockName(t *testing.T) {
	id := "0123456789abcdef"
	sum := md5.Sum([]byte("x"))
	raws := []string{blockName(id, 0, sum[:]), blockName(id, MaxParts-1, sum[:]), markerName(id, tagCreate), markerName(id, tagAbort)}
	for _, raw := range raws {
		if len(raw) != len(raws[0]) || len(raw) > 64 {
			t.Errorf("block ID %q: %d bytes, want %d (≤ 64)", raw, len(raw), len(raws[0]))
		}
	}
	pb, ok := parseBlock(blockID(raws[1]))
	if !ok || pb.upload != id || pb.number != MaxParts-1 || pb.md5hex != hex.EncodeToString(sum[:]) || pb.tag != "" {
		t.Errorf("parse %q = %+v, %v", raws[1], pb, ok)
	}
	if pb, ok := parseBlock(blockID(raws[3])); !ok || pb.tag != tagAbort {
		t.Errorf("parse %q = %+v, %v", raws[3], pb, ok)
	}
	for _, foreign := range []string{"", "!!", base64.StdEncoding.EncodeToString([]byte("block-000001")),
		blockID("ferry.0123456789abcdef.00000x." + zeroMD5Hex)} {
		if pb, ok := parseBlock(foreign); ok {
			t.Errorf("parse(%q) = %+v, want not Ferry's", foreign, pb)
		}
	}
}

// counter counts the blocks staged through it (Put Block requests).
type counter struct {
	next   http.RoundTripper
	staged atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && r.URL.Query().Get("comp") == "block" {
		c.staged.Add(1)
	}
	return c.next.RoundTrip(r)
}

// TestStore_ResumeBlocks stages some blocks of an upload, "crashes" (a new
// Store, nothing kept but the upload ID, as the catalog keeps it), lists
// what is staged, stages only the missing blocks and commits: the blob is
// byte for byte the source, and exactly the missing blocks were sent.
func TestStore_ResumeBlocks(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "resume")
	ctx := context.Background()
	const partSize = MinPartSize
	data := make([]byte, 5*partSize+1234)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rnd.Uint32())
	}
	nParts := (len(data) + partSize - 1) / partSize
	part := func(n int) []byte { return data[n*partSize : min((n+1)*partSize, len(data))] }
	open := func() (*Store, *counter) {
		c := &counter{next: http.DefaultTransport}
		st, err := New(ctx, Config{Account: srv.Account, Key: srv.Key, Endpoint: srv.Endpoint, Container: "resume",
			Prefix: "big", HTTPClient: &http.Client{Transport: c}})
		if err != nil {
			t.Fatal(err)
		}
		return st, c
	}
	const key = "file.bin"

	first, _ := open()
	up, err := first.CreateMultipart(ctx, key, int64(len(data)), partSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 2, 3} {
		if _, err := first.UploadPart(ctx, key, up.ID, n, bytes.NewReader(part(n)), int64(len(part(n)))); err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
	}
	// Part 4 is staged with other bytes (its source changed before the
	// crash): it must not count as done.
	other := bytes.Repeat([]byte{7}, len(part(4)))
	if _, err := first.UploadPart(ctx, key, up.ID, 4, bytes.NewReader(other), int64(len(other))); err != nil {
		t.Fatal(err)
	}
	if _, err := first.UploadPart(ctx, key, up.ID, 4, bytes.NewReader(part(4)), int64(len(part(4)))); err != nil {
		t.Fatal(err)
	}
	// A second, abandoned upload of the same blob is not this one's.
	stray, err := first.CreateMultipart(ctx, key, int64(len(data)), partSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.UploadPart(ctx, key, stray.ID, 1, bytes.NewReader(part(1)), int64(len(part(1)))); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Head(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head before commit = %v, want fs.ErrNotExist (staged blocks are not a blob)", err)
	}

	// Crash; resume with only the upload ID.
	second, count := open()
	listed, err := second.ListParts(ctx, key, up.ID)
	if err != nil {
		t.Fatalf("ListParts after the crash: %v", err)
	}
	var have []int
	for _, p := range listed {
		have = append(have, p.Number)
		if want := hex.EncodeToString(md5sum(part(p.Number))); p.ETag != want || p.Size != int64(len(part(p.Number))) {
			t.Errorf("listed part %+v, want ETag %s size %d", p, want, len(part(p.Number)))
		}
	}
	if want := []int{0, 2, 3}; !slices.Equal(have, want) {
		t.Fatalf("ListParts after the crash: parts %v, want %v (part 4 staged twice with different bytes is left out)", have, want)
	}
	parts := make([]fs.Part, nParts)
	for _, p := range listed {
		parts[p.Number] = p
	}
	for n := 0; n < nParts; n++ {
		if slices.Contains(have, n) {
			continue
		}
		p, err := second.UploadPart(ctx, key, up.ID, n, bytes.NewReader(part(n)), int64(len(part(n))))
		if err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
		if want := second.PartETag(md5sum(part(n)), int64(len(part(n)))); p.ETag != want {
			t.Errorf("UploadPart %d: ETag %q, want %q", n, p.ETag, want)
		}
		parts[n] = p
	}
	if got, want := count.staged.Load(), int64(nParts-3); got != want {
		t.Errorf("resume staged %d blocks, want only the %d missing", got, want)
	}
	info, err := second.CompleteMultipart(ctx, key, up.ID, parts)
	if err != nil {
		t.Fatalf("CompleteMultipart: %v", err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("CompleteMultipart: Size %d, want %d", info.Size, len(data))
	}
	got, err := readBack(srv, "resume", "big/")(ctx, key)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v; want the %d source bytes", len(got), err, len(data))
	}
	if h, err := second.Head(ctx, key); err != nil || h.Size != int64(len(data)) {
		t.Errorf("Head after commit = %+v, %v", h, err)
	}
	// Committing discarded every uncommitted block, the stray upload's too.
	if left := uncommitted(t, srv, "resume", "big/"+key); len(left) != 0 {
		t.Errorf("uncommitted blocks after commit: %v", left)
	}
	if _, err := second.ListParts(ctx, key, up.ID); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ListParts of the committed upload = %v, want fs.ErrNotExist", err)
	}
	if _, err := second.ListParts(ctx, key, stray.ID); !errors.Is(err, fs.ErrNotExist) || !second.IsPermanent(err) {
		t.Errorf("ListParts of the stray upload after another commit = %v, want permanent fs.ErrNotExist", err)
	}
}

// TestStore_CompleteMismatch: a part list whose MD5 does not match what was
// staged is refused (permanently) instead of committing other bytes.
func TestStore_CompleteMismatch(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "mismatch")
	st := newStore(t, srv, "mismatch", "")
	ctx := context.Background()
	up, err := st.CreateMultipart(ctx, "k", 2*MinPartSize, MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("ab"), MinPartSize/2)
	p, err := st.UploadPart(ctx, "k", up.ID, 0, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	p.ETag = hex.EncodeToString(md5sum([]byte("other bytes")))
	_, err = st.CompleteMultipart(ctx, "k", up.ID, []fs.Part{p})
	if err == nil || !st.IsPermanent(err) {
		t.Fatalf("CompleteMultipart with a wrong MD5 = %v, want a permanent error", err)
	}
	if _, err := st.Head(ctx, "k"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head after the refused commit = %v, want fs.ErrNotExist", err)
	}
}

// md5sum returns the MD5 of b.
func md5sum(b []byte) []byte {
	s := md5.Sum(b)
	return s[:]
}
