package us3emu_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-project/ferry/test/us3emu"
)

func TestServer_AuthFailures(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{})
	good := newSDK(t, ep, us3emu.TestBucket)
	if err := good.PutFileWithData("secret", "text/plain", []byte("s")); err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()

	bad := newSDK(t, ep, us3emu.TestBucket, "wrong-private-key")
	if err := bad.PutFileWithData("secret", "text/plain", []byte("overwritten")); err == nil {
		t.Fatal("put with wrong private key accepted")
	}
	if bad.LastResponseStatus != 403 || !strings.Contains(string(bad.LastResponseBody), `"RetCode":-`) ||
		bad.LastResponseHeader.Get("X-SessionId") == "" {
		t.Fatalf("wrong key reply %d %s", bad.LastResponseStatus, bad.LastResponseBody)
	}
	if strings.Contains(string(bad.LastResponseBody), us3emu.TestPrivateKey) {
		t.Fatal("error reveals the private key")
	}
	if _, err := bad.ListObjects("", "", "", 0); err == nil || bad.LastResponseStatus != 403 {
		t.Fatalf("list with wrong key: %v", err)
	}
	if got := download(t, good, "secret"); string(got) != "s" {
		t.Fatalf("refused put changed the object: %q", got)
	}

	// No Authorization at all.
	resp, err := http.Get(ep + "/secret")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 401 {
		t.Fatalf("unsigned get: %s", resp.Status)
	}
	errorBody(t, resp)

	// An expired presigned URL is refused, a fresh one works.
	resp, err = http.Get(good.GetPrivateURL("secret", -time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 403 {
		t.Fatalf("expired url: %s", resp.Status)
	}
	if code, msg := errorBody(t, resp); !strings.Contains(msg, "expired") || code >= 0 {
		t.Fatalf("expired url error %d %q", code, msg)
	}
	resp, err = http.Get(good.GetPrivateURL("secret", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "s" {
		t.Fatalf("fresh url: %s %q", resp.Status, b)
	}
	// A presigned URL for one key does not open another.
	url := strings.Replace(good.GetPrivateURL("secret", time.Minute), "/secret?", "/other?", 1)
	resp, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 403 {
		t.Fatalf("url for another key: %s", resp.Status)
	}
	resp.Body.Close()
	// GenPresignedURL for PUT works with a plain client.
	put := good.GenPresignedURL("presigned-put", time.Minute, "PUT")
	req, _ := http.NewRequest("PUT", put, strings.NewReader("via url"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned put: %s", resp.Status)
	}
	if got := download(t, good, "presigned-put"); string(got) != "via url" {
		t.Fatalf("presigned put stored %q", got)
	}
	if st := srv.Stats(); st.AuthFailures != 5 {
		t.Errorf("auth failures %d, want 5", st.AuthFailures)
	}
}
