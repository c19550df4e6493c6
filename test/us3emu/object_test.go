package us3emu_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/test/us3emu"
	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

func TestServer_PutFile(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	data := randBytes(100_000, 1)
	path := writeTemp(t, data)
	if err := u.PutFile(path, "dir/obj.bin", "application/x-test"); err != nil {
		t.Fatalf("put: %v", err)
	}
	if got := strings.Trim(u.LastResponseHeader.Get("ETag"), `"`); got != ufsdk.GetFileEtag(path) {
		t.Errorf("put ETag %s, want %s", got, ufsdk.GetFileEtag(path))
	}
	if !u.CompareFileEtag("dir/obj.bin", path) {
		t.Error("CompareFileEtag false")
	}
	h := u.LastResponseHeader
	if h.Get("Content-Type") != "application/x-test" || h.Get("Content-Length") != "100000" ||
		h.Get("Last-Modified") == "" || h.Get("X-Ufile-Storage-Class") != "STANDARD" {
		t.Errorf("head headers %v", h)
	}
	if got := download(t, u, "dir/obj.bin"); !bytes.Equal(got, data) {
		t.Error("downloaded bytes differ")
	}
	if st := srv.Stats(); st.Succeeded["PutFile"] != 1 || st.Succeeded["HeadFile"] != 1 ||
		st.Succeeded["GetFile"] != 1 || st.BytesIn != 100_000 || st.BytesOut != 100_000 {
		t.Errorf("stats %+v", st)
	}

	// Overwrite with other content: the new bytes and ETag win.
	data2 := []byte("second version")
	if err := u.PutFileWithData("dir/obj.bin", "text/plain", data2); err != nil {
		t.Fatal(err)
	}
	if got := download(t, u, "dir/obj.bin"); !bytes.Equal(got, data2) {
		t.Errorf("after overwrite got %q", got)
	}
	if got := headETag(t, u, "dir/obj.bin"); got != sdkETag(t, data2) {
		t.Errorf("after overwrite ETag %s", got)
	}
}

func TestServer_PutFileVerifyMD5(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	cfg := &ufsdk.Config{PublicKey: us3emu.TestPublicKey, PrivateKey: us3emu.TestPrivateKey,
		BucketName: us3emu.TestBucket, Endpoint: ep, VerifyUploadMD5: true}
	u, err := ufsdk.NewFileRequest(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.PutFileWithData("md5/ok", "text/plain", []byte("checked")); err != nil {
		t.Fatalf("put with md5: %v", err)
	}
	// A wrong (but signed) Content-MD5 is refused and nothing is stored.
	u2 := newSDK(t, ep, us3emu.TestBucket)
	u2.RequestHeader = http.Header{"Content-Md5": {"0123456789abcdef0123456789abcdef"}}
	if err := u2.PutFileWithData("md5/bad", "text/plain", []byte("checked")); err == nil || u2.LastResponseStatus != 400 {
		t.Fatalf("bad md5 accepted: %v %d", err, u2.LastResponseStatus)
	}
	u2.RequestHeader = nil
	if err := u2.HeadFile("md5/bad"); err == nil || u2.LastResponseStatus != 404 {
		t.Fatalf("object with bad md5 stored: %v", err)
	}
}

func TestServer_IOPutAndEmpty(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	if err := u.IOPut(strings.NewReader("streamed"), "io/put", ""); err != nil {
		t.Fatalf("ioput: %v", err)
	}
	if got := download(t, u, "io/put"); string(got) != "streamed" {
		t.Errorf("got %q", got)
	}
	if err := u.IOPut(bytes.NewReader(nil), "io/empty", "text/plain"); err != nil {
		t.Fatalf("empty ioput: %v", err)
	}
	if got := headETag(t, u, "io/empty"); got != "AAAAANo5o-5ea0sNMlW_75VgGJCv2AcJ" {
		t.Errorf("empty ETag %s", got)
	}
	if got := download(t, u, "io/empty"); len(got) != 0 {
		t.Errorf("empty object has %d bytes", len(got))
	}
}

func TestServer_DeleteFile(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	if err := u.PutFileWithData("del/me", "text/plain", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := u.DeleteFile("del/me"); err != nil || u.LastResponseStatus != 204 {
		t.Fatalf("delete: %v %d", err, u.LastResponseStatus)
	}
	if err := u.HeadFile("del/me"); err == nil || u.LastResponseStatus != 404 {
		t.Fatalf("deleted object still there: %v", err)
	}
	if err := u.DeleteFile("del/me"); err == nil || u.LastResponseStatus != 404 {
		t.Fatalf("second delete: %v %d", err, u.LastResponseStatus)
	}
	if !bytes.Contains(u.LastResponseBody, []byte(`"RetCode":-148654`)) {
		t.Errorf("404 body %s", u.LastResponseBody)
	}
	list, err := u.PrefixFileList("del/", "", 0)
	if err != nil || len(list.DataSet) != 0 {
		t.Fatalf("listing after delete: %v %+v", err, list)
	}
}

func TestServer_PostFile(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	data := randBytes(70_000, 2)
	path := writeTemp(t, data)
	if err := u.PostFile(path, "posted/file.bin", "image/x-test"); err != nil {
		t.Fatalf("post: %v (%s)", err, u.LastResponseBody)
	}
	if got := download(t, u, "posted/file.bin"); !bytes.Equal(got, data) {
		t.Error("posted bytes differ")
	}
	if !u.CompareFileEtag("posted/file.bin", path) {
		t.Error("posted ETag differs")
	}
	if u.LastResponseHeader.Get("Content-Type") != "image/x-test" {
		t.Errorf("mime %q", u.LastResponseHeader.Get("Content-Type"))
	}
	bad := newSDK(t, ep, us3emu.TestBucket, "wrong-private-key")
	if err := bad.PostFile(path, "posted/bad", "image/x-test"); err == nil || bad.LastResponseStatus != 403 {
		t.Fatalf("post with wrong key: %v %d", err, bad.LastResponseStatus)
	}
	if st := srv.Stats(); st.Succeeded["PostFile"] != 1 || st.Requests["PostFile"] != 2 || st.AuthFailures != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestServer_Copy(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{Buckets: []string{"src", "dst"}})
	src := newSDK(t, ep, "src")
	data := randBytes(5000, 3)
	if err := src.PutFileWithData("a/orig", "text/x-orig", data); err != nil {
		t.Fatal(err)
	}
	// Endpoint form addresses the first bucket; copy within it.
	if err := src.Copy("a/copy", "src", "a/orig"); err != nil {
		t.Fatalf("copy: %v %s", err, src.LastResponseBody)
	}
	if got := download(t, src, "a/copy"); !bytes.Equal(got, data) {
		t.Error("copy bytes differ")
	}
	if headETag(t, src, "a/copy") != sdkETag(t, data) || src.LastResponseHeader.Get("Content-Type") != "text/x-orig" {
		t.Errorf("copy head %v", src.LastResponseHeader)
	}
	// Deleting the source leaves the copy intact.
	if err := src.DeleteFile("a/orig"); err != nil {
		t.Fatal(err)
	}
	if got := download(t, src, "a/copy"); !bytes.Equal(got, data) {
		t.Error("copy damaged by deleting the source")
	}
	if err := src.Copy("x", "nosuchbucket", "a/copy"); err == nil || src.LastResponseStatus != 404 ||
		!bytes.Contains(src.LastResponseBody, []byte("-30010")) {
		t.Fatalf("copy from unknown bucket: %v %d %s", err, src.LastResponseStatus, src.LastResponseBody)
	}
	if err := src.Copy("x", "src", "a/missing"); err == nil || src.LastResponseStatus != 404 {
		t.Fatalf("copy of missing key: %v", err)
	}
}

// TestServer_HostBuckets drives the SDK's default URL form
// (http://<bucket>.<FileHost>/key) through NewClient.
func TestServer_HostBuckets(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{Buckets: []string{"one", "two"}})
	mk := func(bucket string) *ufsdk.UFileRequest {
		u, err := ufsdk.NewFileRequest(&ufsdk.Config{PublicKey: us3emu.TestPublicKey,
			PrivateKey: us3emu.TestPrivateKey, BucketName: bucket, FileHost: "cn-test.ufileos.example"},
			us3emu.NewClient(ep))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	one, two := mk("one"), mk("two")
	if err := one.PutFileWithData("k", "text/plain", []byte("in one")); err != nil {
		t.Fatal(err)
	}
	if err := two.PutFileWithData("k", "text/plain", []byte("in two")); err != nil {
		t.Fatal(err)
	}
	if got := download(t, one, "k"); string(got) != "in one" {
		t.Errorf("bucket one has %q", got)
	}
	if got := download(t, two, "k"); string(got) != "in two" {
		t.Errorf("bucket two has %q", got)
	}
	if err := two.Copy("from-one", "one", "k"); err != nil {
		t.Fatal(err)
	}
	if got := download(t, two, "from-one"); string(got) != "in one" {
		t.Errorf("cross-bucket copy has %q", got)
	}
	// A request signed for "two" but addressed to "one" is refused.
	wrong := newSDK(t, ep, "two")
	if err := wrong.HeadFile("k"); err == nil || wrong.LastResponseStatus != 403 {
		t.Errorf("mismatched bucket accepted: %v %d", err, wrong.LastResponseStatus)
	}
}

func TestServer_RangeGet(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	data := randBytes(1000, 4)
	if err := u.PutFileWithData("r", "application/octet-stream", data); err != nil {
		t.Fatal(err)
	}
	u.RequestHeader = http.Header{"Range": {"bytes=100-199"}}
	var buf bytes.Buffer
	if err := u.DownloadFile(&buf, "r"); err != nil {
		t.Fatal(err)
	}
	if u.LastResponseStatus != 206 || !bytes.Equal(buf.Bytes(), data[100:200]) ||
		u.LastResponseHeader.Get("Content-Range") != "bytes 100-199/1000" {
		t.Fatalf("range: %d %q %d bytes", u.LastResponseStatus, u.LastResponseHeader.Get("Content-Range"), buf.Len())
	}
	u.RequestHeader = nil
	url := u.GetPrivateURL("r", 3600e9)
	get := func(rng string) *http.Response {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Range", rng)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for rng, want := range map[string][]byte{"bytes=-10": data[990:], "bytes=995-": data[995:], "bytes=0-0": data[:1]} {
		resp := get(rng)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 206 || !bytes.Equal(body, want) || resp.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
			t.Errorf("%s: %d, %d bytes", rng, resp.StatusCode, len(body))
		}
	}
	resp := get("bytes=1000-")
	if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */1000" {
		t.Errorf("unsatisfiable: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
	errorBody(t, resp)
	// Go's client asks for gzip; the emulator never compresses.
	resp = get("")
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Length") != "1000" {
		t.Errorf("full get headers %v", resp.Header)
	}
	resp.Body.Close()
}

func TestServer_Attributes(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	if err := u.PutFileWithData("attr", "text/plain", []byte("x")); err != nil {
		t.Fatal(err)
	}
	tags := &ufsdk.TagSet{Tags: []ufsdk.Tag{{Key: "a", Value: "b"}}}
	if err := u.PutObjectTagging("attr", tags); err != nil {
		t.Fatal(err)
	}
	got, err := u.GetObjectTagging("attr")
	if err != nil || len(got.Tags) != 1 || got.Tags[0] != tags.Tags[0] {
		t.Fatalf("tags %+v %v", got, err)
	}
	if err := u.DeleteObjectTagging("attr"); err != nil {
		t.Fatal(err)
	}
	if got, err := u.GetObjectTagging("attr"); err != nil || len(got.Tags) != 0 {
		t.Fatalf("tags after delete %+v %v", got, err)
	}
	if err := u.PutObjectAcl("attr", "public-read"); err != nil {
		t.Fatal(err)
	}
	if acl, err := u.GetObjectAcl("attr"); err != nil || acl != "public-read" {
		t.Fatalf("acl %q %v", acl, err)
	}
	if err := u.ClassSwitch("attr", "IA"); err != nil {
		t.Fatal(err)
	}
	if err := u.HeadFile("attr"); err != nil || u.LastResponseHeader.Get("X-Ufile-Storage-Class") != "IA" {
		t.Fatalf("class after switch %v %v", u.LastResponseHeader, err)
	}
	if err := u.Restore("attr"); err != nil {
		t.Fatal(err)
	}
	if err := u.ClassSwitch("attr", "COLD"); err == nil {
		t.Fatal("unknown class accepted")
	}
	if got := download(t, u, "attr"); string(got) != "x" {
		t.Fatalf("content changed by attribute calls: %q", got)
	}
}
