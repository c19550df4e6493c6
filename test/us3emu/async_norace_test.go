//go:build !race

// The SDK's asynchronous uploaders (AsyncMPut, AsyncUpload,
// IOMutipartAsyncUpload) call UploadPart on one UFileRequest from many
// goroutines, and UploadPart writes the request's shared URL field: the race
// detector reports that race inside the SDK. These tests therefore run only
// without -race; the emulator's own concurrency is covered under -race by
// TestServer_ConcurrentWriters.

package us3emu_test

import (
	"bytes"
	"testing"

	"github.com/ferry-project/ferry/test/us3emu"
	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

func TestServer_AsyncUploads(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{BlkSize: 4096})
	u := newSDK(t, ep, us3emu.TestBucket)
	data := randBytes(100*1024+7, 10)
	path := writeTemp(t, data)
	if err := u.AsyncMPut(path, "async/mput", "application/x-a"); err != nil {
		t.Fatalf("AsyncMPut: %v", err)
	}
	if err := u.AsyncUpload(path, "async/upload3", "application/x-a", 3); err != nil {
		t.Fatalf("AsyncUpload: %v", err)
	}
	if err := u.IOMutipartAsyncUpload(bytes.NewReader(data), "async/io", "application/x-a"); err != nil {
		t.Fatalf("IOMutipartAsyncUpload: %v", err)
	}
	for _, k := range []string{"async/mput", "async/upload3", "async/io"} {
		if got := download(t, u, k); !bytes.Equal(got, data) {
			t.Errorf("%s: bytes differ", k)
		}
		if !u.CompareFileEtag(k, path) {
			t.Errorf("%s: ETag differs from %s", k, ufsdk.GetFileEtag(path))
		}
	}
	if st := srv.Stats(); st.Succeeded["UploadPart"] != 3*26 || st.Succeeded["FinishMultipart"] != 3 {
		t.Errorf("stats %+v", st)
	}
	if p := srv.PendingUploads(); len(p) != 0 {
		t.Errorf("pending %+v", p)
	}
}
