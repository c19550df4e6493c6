package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/miniotest"
)

func TestStore_Check(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "present")
	if err := newStore(t, srv, "present", "").Check(ctx); err != nil {
		t.Fatalf("Check of an existing bucket: %v", err)
	}
	err := newStore(t, srv, "absent", "").Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "bucket absent does not exist") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check of a missing bucket: err = %v, want \"bucket absent does not exist\" wrapping fs.ErrNotExist", err)
	}
	const wrong = "wrong-secret-value-123"
	bad, err := New(ctx, Config{Provider: "minio", Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: wrong, Bucket: "present"})
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "access denied (check credentials)") || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Check with a wrong secret key: err = %v, want \"access denied (check credentials)\"", err)
	}
	if err != nil && (strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), srv.SecretKey)) {
		t.Errorf("Check error shows a secret: %v", err)
	}
	// A wrong secret on an object operation: permanent, and no secret shown.
	_, err = bad.Head(ctx, "k")
	if err == nil || !bad.IsPermanent(err) || strings.Contains(err.Error(), wrong) {
		t.Errorf("Head with a wrong secret: err = %v, permanent %t; want a permanent error without the secret", err, bad.IsPermanent(err))
	}
}

// TestStore_CrossAccount copies an object between two MinIO servers with
// different credentials, each Store using only its own, with no spool.
func TestStore_CrossAccount(t *testing.T) {
	ctx := context.Background()
	a, b := miniotest.Start(t), miniotest.Start(t)
	a.CreateBucket(t, "src")
	b.CreateBucket(t, "dst")
	data := bytes.Repeat([]byte("cross-account "), 1000)
	upload(t, a, "src", map[string][]byte{"in/obj.bin": data})
	src, dst := newStore(t, a, "src", "in"), newStore(t, b, "dst", "out")

	f, err := src.Open(ctx, "obj.bin")
	if err != nil {
		t.Fatalf("Open on A: %v", err)
	}
	defer f.Close()
	info, err := dst.Put(ctx, "obj.bin", io.NewSectionReader(f, 0, int64(len(data))), int64(len(data)))
	if err != nil {
		t.Fatalf("Put on B: %v", err)
	}
	got, err := readBack(b, "dst", "out/")(ctx, "obj.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("B holds %d bytes (%v), want the %d of A", len(got), err, len(data))
	}
	se, err := src.Stat(ctx, "obj.bin")
	if err != nil || se.ETag != info.ETag {
		t.Errorf("ETag on A %q (%v), on B %q: want equal", se.ETag, err, info.ETag)
	}
	// Each account's keys are refused by the other server.
	crossed, err := New(ctx, Config{Provider: "minio", Endpoint: b.Endpoint, AccessKey: a.AccessKey, SecretKey: a.SecretKey, Bucket: "dst"})
	if err != nil {
		t.Fatal(err)
	}
	if err := crossed.Check(ctx); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("A's keys on B: Check err = %v, want access denied", err)
	}
	if _, err := dst.Head(ctx, "missing-on-b"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head of a key only A could have: %v, want fs.ErrNotExist", err)
	}
}

// TestStore_IsPermanent classifies real errors: from MinIO and from a
// loopback server answering with S3 error documents, and a refused
// connection.
func TestStore_IsPermanent(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "perm")
	st := newStore(t, srv, "perm", "")

	_, err := st.Head(ctx, "missing")
	check(t, st, "Head of a missing key", err, true)
	_, err = st.ListParts(ctx, "k", "no-such-upload-id")
	check(t, st, "ListParts of an unknown upload", err, true)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ListParts of an unknown upload: %v, want fs.ErrNotExist", err)
	}
	up, err := st.CreateMultipart(ctx, "k", 10, MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UploadPart(ctx, "k", up.ID, 0, strings.NewReader("tiny"), 4); err != nil {
		t.Fatal(err)
	}
	_, err = st.CompleteMultipart(ctx, "k", up.ID, []fs.Part{{Number: 0, Size: 4, ETag: "00000000000000000000000000000000"}})
	check(t, st, "CompleteMultipart with a wrong part ETag", err, true)
	if err := st.AbortMultipart(ctx, "k", up.ID); err != nil {
		t.Errorf("AbortMultipart: %v", err)
	}
	if err := st.AbortMultipart(ctx, "k", "no-such-upload-id"); err != nil {
		t.Errorf("AbortMultipart of an unknown upload: %v, want nil", err)
	}

	// A closed port: connection refused is transient.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	_, err = storeAt(t, closed).Head(ctx, "k")
	check(t, st, "Head against a closed port", err, false)

	for _, c := range []struct {
		status    int
		code      string
		permanent bool
	}{
		{503, "SlowDown", false}, {500, "InternalError", false}, {429, "TooManyRequests", false},
		{400, "RequestTimeout", false}, {403, "RequestTimeTooSkewed", false},
		{400, "InvalidArgument", true}, {400, "EntityTooLarge", true}, {403, "AccessDenied", true},
		{404, "NoSuchBucket", true}, {409, "SomethingNew", true}, {502, "SomethingNew", false},
	} {
		errSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(c.status)
			fmt.Fprintf(w, "<Error><Code>%s</Code><Message>test</Message></Error>", c.code)
		}))
		_, err := storeAt(t, errSrv.URL).Put(ctx, "k", strings.NewReader("x"), 1)
		errSrv.Close()
		check(t, st, fmt.Sprintf("Put answered %d %s", c.status, c.code), err, c.permanent)
	}
	if st.IsPermanent(context.Canceled) || st.IsPermanent(nil) {
		t.Error("IsPermanent(context.Canceled or nil) = true")
	}
}

// check asserts an error exists and is classified as want.
func check(t *testing.T, st *Store, what string, err error, want bool) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	if got := st.IsPermanent(err); got != want {
		t.Errorf("%s: IsPermanent(%v) = %t, want %t", what, err, got, want)
	}
}

// storeAt returns a Store on bucket "b" at endpoint with dummy keys.
func storeAt(t *testing.T, endpoint string) *Store {
	t.Helper()
	st, err := New(context.Background(), Config{Endpoint: endpoint, Bucket: "b", AccessKey: "ak", SecretKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
