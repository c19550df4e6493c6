package us3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/us3"
	"github.com/ferry-project/ferry/test/us3emu"
)

// Test credentials; error messages must never contain either.
const (
	testPub    = "TESTPUBLICKEY4f2a9c"
	testPriv   = "TESTPRIVATEKEY8d1e7b"
	testBucket = "ferry-test"
)

// emu is an emulator started for one test.
type emu struct {
	srv      *us3emu.Server
	endpoint string
}

// startEmu starts a US3 emulator with the test keys and bucket.
func startEmu(t *testing.T, blk int64) *emu {
	t.Helper()
	srv, endpoint := us3emu.StartForTest(t, us3emu.Options{
		PublicKey: testPub, PrivateKey: testPriv, Buckets: []string{testBucket}, BlkSize: blk,
	})
	return &emu{srv: srv, endpoint: endpoint}
}

// store returns a Store on the emulator's bucket under prefix.
func (e *emu) store(t *testing.T, prefix string) *us3.Store {
	t.Helper()
	s, err := us3.New(context.Background(), us3.Config{
		PublicKey: testPub, PrivateKey: testPriv, Bucket: testBucket, Prefix: prefix, Endpoint: e.endpoint,
	})
	if err != nil {
		t.Fatalf("us3.New: %v", err)
	}
	return s
}

// sdk returns a fresh ufile-gosdk request (one per goroutine: the SDK is
// not goroutine-safe) addressing the emulator's bucket.
func (e *emu) sdk(t *testing.T) *ufsdk.UFileRequest {
	t.Helper()
	req, err := ufsdk.NewFileRequest(&ufsdk.Config{
		PublicKey: testPub, PrivateKey: testPriv, BucketName: testBucket, Endpoint: e.endpoint,
	}, &http.Client{Timeout: time.Minute})
	if err != nil {
		t.Fatalf("ufsdk.NewFileRequest: %v", err)
	}
	return req
}

// sdkPut uploads data at the full key through the SDK's IOPut.
func (e *emu) sdkPut(t *testing.T, key string, data []byte) {
	t.Helper()
	req := e.sdk(t)
	if err := req.IOPut(bytes.NewReader(data), key, "application/octet-stream"); err != nil {
		t.Fatalf("SDK IOPut(%q): %v (HTTP %d %s)", key, err, req.LastResponseStatus, req.LastResponseBody)
	}
}

// sdkGet downloads the full key through the SDK's DownloadFile (a
// presigned GET); a 404 gives an error wrapping fs.ErrNotExist.
func (e *emu) sdkGet(t *testing.T, key string) ([]byte, error) {
	req := e.sdk(t)
	var buf bytes.Buffer
	if err := req.DownloadFile(&buf, key); err != nil {
		if req.LastResponseStatus == http.StatusNotFound {
			return nil, fmt.Errorf("SDK download %q: %w", key, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("SDK download %q: %w (HTTP %d)", key, err, req.LastResponseStatus)
	}
	return buf.Bytes(), nil
}

// sdkETagMatches writes data to a temporary file and asks the SDK's
// CompareFileEtag whether the stored object's ETag matches GetFileEtag.
func (e *emu) sdkETagMatches(t *testing.T, key string, data []byte) bool {
	t.Helper()
	p := filepath.Join(t.TempDir(), "local")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return e.sdk(t).CompareFileEtag(key, p)
}

// isNotExist is errors.Is(err, fs.ErrNotExist), for brevity.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// pattern returns n bytes that do not repeat with any small period.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// fmtKey is the i-th key of a large listing: spread over a few
// directories, with names whose order differs from their numbers.
func fmtKey(i int) string {
	return fmt.Sprintf("d%d/%04d-%x", i%3, (i*7919)%10000, i)
}

// stringsReader is strings.NewReader, as an io.ReadSeeker.
func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}
