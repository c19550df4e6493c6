package us3emu_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/ferry-project/ferry/test/us3emu"
	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

func TestServer_MPut(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{BlkSize: 1024})
	u := newSDK(t, ep, us3emu.TestBucket)
	for _, size := range []int{1, 1024, 5*1024 + 512} {
		data := randBytes(size, uint64(size))
		path := writeTemp(t, data)
		key := "mput/" + string(rune('a'+size%26))
		if err := u.MPut(path, key, "application/x-mput"); err != nil {
			t.Fatalf("mput %d: %v (%s)", size, err, u.LastResponseBody)
		}
		if got := download(t, u, key); !bytes.Equal(got, data) {
			t.Fatalf("mput %d: bytes differ", size)
		}
		if !u.CompareFileEtag(key, path) {
			t.Fatalf("mput %d: ETag %s, sdk %s", size, u.LastResponseHeader.Get("ETag"), ufsdk.GetFileEtag(path))
		}
	}
	st := srv.Stats()
	if st.Succeeded["InitiateMultipart"] != 3 || st.Succeeded["FinishMultipart"] != 3 || st.Succeeded["UploadPart"] != 1+1+6 {
		t.Errorf("stats %+v", st)
	}
	if p := srv.PendingUploads(); len(p) != 0 {
		t.Errorf("pending after finish: %+v", p)
	}
}

// TestServer_MPutLarge uses the real 4 MiB block size: the object ETag is
// the multi-block US3 ETag.
func TestServer_MPutLarge(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	data := randBytes(9<<20+123, 9)
	path := writeTemp(t, data)
	if err := u.MPut(path, "big", ""); err != nil {
		t.Fatal(err)
	}
	if got := headETag(t, u, "big"); got != ufsdk.GetFileEtag(path) || got[:4] != "AwAA" {
		t.Errorf("ETag %s, sdk %s", got, ufsdk.GetFileEtag(path))
	}
	if got := download(t, u, "big"); !bytes.Equal(got, data) {
		t.Error("bytes differ")
	}
}

// TestServer_MultipartSteps drives initiate, parts, ListParts, pending
// listings, refused finishes, then finish and abort.
func TestServer_MultipartSteps(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{BlkSize: 8})
	u := newSDK(t, ep, us3emu.TestBucket)
	state, err := u.InitiateMultipartUpload("steps/obj", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if state.BlkSize != 8 || state.UploadID == "" {
		t.Fatalf("state %+v", state)
	}
	data := []byte("0123456789abcdefXYZ") // parts of 8, 8, 3
	for i := 0; i*8 < len(data); i++ {
		if err := u.UploadPart(bytes.NewBuffer(data[i*8:min(len(data), i*8+8)]), state, i); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if len(state.Etags) != 3 || len(state.Etags[0]) != 28 {
		t.Fatalf("etags %v", state.Etags)
	}
	p := srv.PendingUploads()
	if len(p) != 1 || p[0].Key != "steps/obj" || p[0].UploadID != state.UploadID || p[0].Parts != 3 || p[0].Bytes != 19 {
		t.Fatalf("pending %+v", p)
	}
	var admin []us3emu.PendingUpload
	adminJSON(t, ep, "uploads", &admin)
	if len(admin) != 1 || admin[0].UploadID != state.UploadID {
		t.Fatalf("admin uploads %+v", admin)
	}

	// ListParts pages two at a time.
	l1, err := u.ListParts(state.UploadID, 2, 0)
	if err != nil || len(l1.Parts) != 2 || !l1.IsTruncated || l1.Parts[0].PartNum != 0 || l1.Parts[1].Size != 8 ||
		l1.Parts[0].Etag != state.Etags[0] || l1.Key != "steps/obj" {
		t.Fatalf("list parts page 1: %+v %v", l1, err)
	}
	l2, err := u.ListParts(state.UploadID, 2, int(l1.NextPartNumberMarker))
	if err != nil || len(l2.Parts) != 1 || l2.IsTruncated || l2.Parts[0].PartNum != 2 || l2.Parts[0].Size != 3 {
		t.Fatalf("list parts page 2: %+v %v", l2, err)
	}

	// Finish with a missing middle part is refused, nothing is stored.
	saved := state.Etags[1]
	delete(state.Etags, 1)
	if err := u.FinishMultipartUpload(state); err == nil || u.LastResponseStatus != 400 {
		t.Fatalf("finish with missing part: %v %d", err, u.LastResponseStatus)
	}
	// A wrong ETag is refused too.
	state.Etags[1] = state.Etags[0]
	if err := u.FinishMultipartUpload(state); err == nil || u.LastResponseStatus != 400 {
		t.Fatalf("finish with wrong etag: %v", err)
	}
	if err := u.HeadFile("steps/obj"); err == nil {
		t.Fatal("object exists after refused finishes")
	}
	state.Etags[1] = saved
	if err := u.FinishMultipartUpload(state); err != nil {
		t.Fatalf("finish: %v %s", err, u.LastResponseBody)
	}
	if !bytes.Contains(u.LastResponseBody, []byte(`"FileSize":19`)) {
		t.Errorf("finish body %s", u.LastResponseBody)
	}
	if got := download(t, u, "steps/obj"); !bytes.Equal(got, data) {
		t.Fatalf("assembled %q", got)
	}
	if headETag(t, u, "steps/obj") != sdkETag(t, data) {
		t.Error("assembled ETag differs")
	}
	if p := srv.PendingUploads(); len(p) != 0 {
		t.Fatalf("pending after finish %+v", p)
	}
	if _, err := u.ListParts(state.UploadID, 0, 0); err == nil || u.LastResponseStatus != 404 {
		t.Fatalf("list parts of finished upload: %v", err)
	}

	// Abort discards the upload; parts for it are refused afterwards.
	st2, err := u.InitiateMultipartUpload("steps/aborted", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if err := u.UploadPart(bytes.NewBufferString("abcdefgh"), st2, 0); err != nil {
		t.Fatal(err)
	}
	if len(srv.PendingUploads()) != 1 {
		t.Fatal("second upload not pending")
	}
	if err := u.AbortMultipartUpload(st2); err != nil {
		t.Fatal(err)
	}
	if p := srv.PendingUploads(); len(p) != 0 {
		t.Fatalf("pending after abort %+v", p)
	}
	if err := u.UploadPart(bytes.NewBufferString("abcdefgh"), st2, 1); err == nil {
		t.Fatal("part for aborted upload accepted")
	}
	if err := u.HeadFile("steps/aborted"); err == nil {
		t.Fatal("aborted upload produced an object")
	}
}

func TestServer_MultipartRules(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{BlkSize: 8})
	u := newSDK(t, ep, us3emu.TestBucket)
	state, err := u.InitiateMultipartUpload("rules", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	// A part larger than BlkSize is refused at upload.
	if err := u.UploadPart(bytes.NewBufferString("123456789"), state, 0); err == nil {
		t.Fatal("oversized part accepted")
	}
	// A short non-final part is refused at finish.
	if err := u.UploadPart(bytes.NewBufferString("1234"), state, 0); err != nil {
		t.Fatal(err)
	}
	if err := u.UploadPart(bytes.NewBufferString("5678"), state, 1); err != nil {
		t.Fatal(err)
	}
	if err := u.FinishMultipartUpload(state); err == nil || u.LastResponseStatus != 400 {
		t.Fatalf("short middle part accepted: %v", err)
	}
	// Re-uploading part 0 at full size fixes it.
	if err := u.UploadPart(bytes.NewBufferString("abcdefgh"), state, 0); err != nil {
		t.Fatal(err)
	}
	if err := u.FinishMultipartUpload(state); err != nil {
		t.Fatalf("finish: %v %s", err, u.LastResponseBody)
	}
	if got := download(t, u, "rules"); string(got) != "abcdefgh5678" {
		t.Fatalf("got %q", got)
	}
	// Parts beyond the listed ones are refused: the SDK drops trailing parts
	// when a middle ETag is missing from its map.
	st2, _ := u.InitiateMultipartUpload("rules2", "text/plain")
	for i, s := range []string{"abcdefgh", "ijklmnop", "q"} {
		if err := u.UploadPart(bytes.NewBufferString(s), st2, i); err != nil {
			t.Fatal(err)
		}
	}
	delete(st2.Etags, 2)
	if err := u.FinishMultipartUpload(st2); err == nil || u.LastResponseStatus != 400 {
		t.Fatalf("finish listing 2 of 3 parts: %v", err)
	}
	// An unknown upload id and a part for another key are refused.
	bogus, _ := u.InitiateMultipartUpload("rules2", "text/plain")
	bogus.UploadID = "no-such-upload"
	if err := u.UploadPart(bytes.NewBufferString("x"), bogus, 0); err == nil {
		t.Fatal("part for unknown upload accepted")
	}
	other, _ := u.InitiateMultipartUpload("rules3", "text/plain")
	other.UploadID = st2.UploadID
	if err := u.UploadPart(bytes.NewBufferString("x"), other, 0); err == nil {
		t.Fatal("part for another key's upload accepted")
	}
}

// TestServer_MultipartPolicy checks the ":policy" signature variant.
func TestServer_MultipartPolicy(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{BlkSize: 16})
	u := newSDK(t, ep, us3emu.TestBucket)
	data := randBytes(40, 5)
	path := writeTemp(t, data)
	policy := `{"callbackUrl":"http://127.0.0.1:1/cb","callbackBody":"key=${key}"}`
	if err := u.MPutWithPolicy(path, "policy/mput", "text/plain", policy); err != nil {
		t.Fatalf("mput with policy: %v %s", err, u.LastResponseBody)
	}
	if err := u.PutFileWithPolicy(path, "policy/put", "text/plain", policy); err != nil {
		t.Fatalf("put with policy: %v %s", err, u.LastResponseBody)
	}
	for _, k := range []string{"policy/mput", "policy/put"} {
		if got := download(t, u, k); !bytes.Equal(got, data) {
			t.Errorf("%s differs", k)
		}
	}
}

func TestServer_GetMultiUploadID(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	for _, k := range []string{"mu/a", "mu/b", "other"} {
		if _, err := u.InitiateMultipartUpload(k, "text/plain"); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest("GET", ep+"/?muploadid&prefix=mu/&limit=1", nil)
	req.Header.Set("Authorization", u.Auth.Authorization("GET", us3emu.TestBucket, "", req.Header))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		NextMarker string
		DataSet    []struct{ UploadId, FileName string }
	}
	decodeJSON(t, resp, &out)
	if len(out.DataSet) != 1 || out.DataSet[0].FileName != "mu/a" || out.NextMarker != "mu/a" {
		t.Fatalf("page 1 %+v", out)
	}
}
