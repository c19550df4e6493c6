package us3emu_test

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-project/ferry/test/us3emu"
)

// TestNew_Reload restarts the emulator over the same root: objects, their
// metadata and pending uploads survive; crash leftovers are cleaned.
func TestNew_Reload(t *testing.T) {
	root := t.TempDir()
	opts := us3emu.Options{Root: root, PublicKey: us3emu.TestPublicKey, PrivateKey: us3emu.TestPrivateKey,
		Buckets: []string{"b"}, BlkSize: 4}
	start := func() (*us3emu.Server, *httptest.Server) {
		s, err := us3emu.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		return s, ts
	}
	_, ts1 := start()
	u := newSDK(t, ts1.URL, "b")
	keys := []string{"z", "a/b", "a", "ünï code"}
	for _, k := range keys {
		if err := u.PutFileWithData(k, "text/x-"+string(rune('a'+len(k))), []byte("data "+k)); err != nil {
			t.Fatal(err)
		}
	}
	state, err := u.InitiateMultipartUpload("half", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"abcd", "efgh"} {
		if err := u.UploadPart(bytes.NewBufferString(p), state, i); err != nil {
			t.Fatal(err)
		}
	}
	ts1.Close()
	// Leftovers of a crash: a temp file and a blob no sidecar names.
	if err := os.WriteFile(filepath.Join(root, "b", "tmp", "body-123"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "b", "blobs", "orphan"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}

	s2, ts2 := start()
	u2 := newSDK(t, ts2.URL, "b")
	for _, k := range keys {
		if got := download(t, u2, k); string(got) != "data "+k {
			t.Errorf("%q after restart: %q", k, got)
		}
		if u2.LastResponseHeader.Get("Content-Type") != "text/x-"+string(rune('a'+len(k))) {
			t.Errorf("%q mime %q", k, u2.LastResponseHeader.Get("Content-Type"))
		}
	}
	l, err := u2.ListObjects("", "", "", 0)
	if err != nil || len(l.Contents) != 4 || l.Contents[0].Key != "a" || l.Contents[3].Key != "ünï code" {
		t.Fatalf("listing after restart %+v %v", l, err)
	}
	p := s2.PendingUploads()
	if len(p) != 1 || p[0].UploadID != state.UploadID || p[0].Parts != 2 {
		t.Fatalf("pending after restart %+v", p)
	}
	// The upload resumes in the new process.
	if err := u2.UploadPart(bytes.NewBufferString("ij"), state, 2); err != nil {
		t.Fatal(err)
	}
	if err := u2.FinishMultipartUpload(state); err != nil {
		t.Fatalf("finish after restart: %v %s", err, u2.LastResponseBody)
	}
	if got := download(t, u2, "half"); string(got) != "abcdefghij" {
		t.Fatalf("resumed object %q", got)
	}
	for _, leftover := range []string{"tmp/body-123", "blobs/orphan"} {
		if _, err := os.Stat(filepath.Join(root, "b", leftover)); !os.IsNotExist(err) {
			t.Errorf("%s not cleaned: %v", leftover, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "b", "uploads")); len(ents) != 0 {
		t.Errorf("upload dirs left: %d", len(ents))
	}
}

func TestNew_BadOptions(t *testing.T) {
	good := us3emu.Options{Root: t.TempDir(), PublicKey: "p", PrivateKey: "k", Buckets: []string{"b"}}
	for name, mod := range map[string]func(*us3emu.Options){
		"no root":      func(o *us3emu.Options) { o.Root = "" },
		"no key":       func(o *us3emu.Options) { o.PrivateKey = "" },
		"no bucket":    func(o *us3emu.Options) { o.Buckets = nil },
		"bad bucket":   func(o *us3emu.Options) { o.Buckets = []string{"../x"} },
		"dup bucket":   func(o *us3emu.Options) { o.Buckets = []string{"b", "b"} },
		"bad faults":   func(o *us3emu.Options) { o.Faults.ErrorRate = 1.5 },
		"neg blk size": func(o *us3emu.Options) { o.BlkSize = -1 },
	} {
		o := good
		mod(&o)
		if _, err := us3emu.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := us3emu.New(good); err != nil {
		t.Fatalf("good options refused: %v", err)
	}
}
