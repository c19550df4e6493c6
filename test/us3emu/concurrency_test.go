package us3emu_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/ferry-project/ferry/test/us3emu"
	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

// TestServer_ConcurrentWriters races overwrites, reads and multipart
// uploads of the same keys; every read sees one whole version.
func TestServer_ConcurrentWriters(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{BlkSize: 64})
	versions := map[string]bool{}
	for w := range 6 {
		versions[string(bytes.Repeat([]byte{byte('a' + w)}, 200))] = true
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One SDK request per goroutine: the SDK is not goroutine-safe.
			u, err := ufsdk.NewFileRequest(&ufsdk.Config{PublicKey: us3emu.TestPublicKey,
				PrivateKey: us3emu.TestPrivateKey, BucketName: us3emu.TestBucket, Endpoint: ep}, nil)
			if err != nil {
				errs <- err
				return
			}
			data := bytes.Repeat([]byte{byte('a' + w)}, 200)
			for i := range 15 {
				key := fmt.Sprintf("same/%d", i%3)
				if w%2 == 0 {
					err = u.PutFileWithData(key, "text/plain", data)
				} else {
					st, ierr := u.InitiateMultipartUpload(key, "text/plain")
					if ierr != nil {
						errs <- ierr
						return
					}
					for p := 0; p*64 < len(data) && err == nil; p++ {
						err = u.UploadPart(bytes.NewBuffer(data[p*64:min(len(data), p*64+64)]), st, p)
					}
					if err == nil {
						err = u.FinishMultipartUpload(st)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				var buf bytes.Buffer
				if err := u.DownloadFile(&buf, key); err != nil {
					errs <- err
					return
				}
				if !versions[buf.String()] {
					errs <- fmt.Errorf("torn read of %s: %q", key, buf.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
