package us3emu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-project/ferry/test/us3emu"
	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

// newSDK returns an SDK request in endpoint form for bucket, signed with the
// test keys (or privateKey when given).
func newSDK(t *testing.T, endpoint, bucket string, privateKey ...string) *ufsdk.UFileRequest {
	t.Helper()
	cfg := &ufsdk.Config{PublicKey: us3emu.TestPublicKey, PrivateKey: us3emu.TestPrivateKey,
		BucketName: bucket, Endpoint: endpoint}
	if len(privateKey) > 0 {
		cfg.PrivateKey = privateKey[0]
	}
	req, err := ufsdk.NewFileRequest(cfg, &http.Client{Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// randBytes returns n deterministic pseudo-random bytes.
func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeTemp writes data to a new file and returns its path.
func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// download fetches key through DownloadFile.
func download(t *testing.T, u *ufsdk.UFileRequest, key string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := u.DownloadFile(&buf, key); err != nil {
		t.Fatalf("download %q: %v (status %d)", key, err, u.LastResponseStatus)
	}
	return buf.Bytes()
}

// sdkETag is the SDK's own ETag of data.
func sdkETag(t *testing.T, data []byte) string {
	t.Helper()
	return ufsdk.GetFileEtag(writeTemp(t, data))
}

// headETag returns the unquoted ETag HeadFile reports for key.
func headETag(t *testing.T, u *ufsdk.UFileRequest, key string) string {
	t.Helper()
	if err := u.HeadFile(key); err != nil {
		t.Fatalf("head %q: %v", key, err)
	}
	e := u.LastResponseHeader.Get("ETag")
	if len(e) < 2 || e[0] != '"' || e[len(e)-1] != '"' {
		t.Fatalf("head %q: ETag %q not quoted", key, e)
	}
	return e[1 : len(e)-1]
}

// errorBody decodes a JSON error reply and checks its shape.
func errorBody(t *testing.T, resp *http.Response) (retCode int, msg string) {
	t.Helper()
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q", ct)
	}
	if resp.Header.Get("X-SessionId") == "" {
		t.Fatal("error without X-SessionId")
	}
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		RetCode *int
		ErrMsg  string
	}
	if err := json.Unmarshal(b, &e); err != nil || e.RetCode == nil || *e.RetCode >= 0 || e.ErrMsg == "" {
		t.Fatalf("error body %q: %v", b, err)
	}
	return *e.RetCode, e.ErrMsg
}

// adminJSON GETs an admin path and decodes it into v.
func adminJSON(t *testing.T, endpoint, path string, v any) {
	t.Helper()
	resp, err := http.Get(endpoint + "/_us3emu/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("admin %s: %v", path, err)
	}
}

// decodeJSON checks a 200 reply and decodes its body into v.
func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %s: %s", resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
