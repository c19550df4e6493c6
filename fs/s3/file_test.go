package s3

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/miniotest"
)

// TestFile_ReadAt_ObjectReplaced: a file opened before its object is
// overwritten never mixes versions; reads fail with a permanent error.
func TestFile_ReadAt_ObjectReplaced(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "chg")
	upload(t, srv, "chg", map[string][]byte{"f": []byte("first version")})
	st := newStore(t, srv, "chg", "")
	f, err := st.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := make([]byte, 5)
	if n, err := f.ReadAt(p, 0); n != 5 || err != nil || string(p) != "first" {
		t.Fatalf("ReadAt before the change = %d %q %v", n, p, err)
	}
	upload(t, srv, "chg", map[string][]byte{"f": []byte("SECOND VERSION")})
	n, err := f.ReadAt(p, 0)
	if err == nil {
		t.Fatalf("ReadAt after the object changed = %d %q, want an error", n, p[:n])
	}
	if !st.IsPermanent(err) {
		t.Errorf("ReadAt after the object changed: IsPermanent(%v) = false", err)
	}
}

func TestFile_Close(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "cls")
	upload(t, srv, "cls", map[string][]byte{"f": []byte("content")})
	st := newStore(t, srv, "cls", "")
	f, err := st.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n, err := f.ReadAt(make([]byte, 3), 0); err == nil || n != 0 {
		t.Errorf("ReadAt after Close = %d, %v; want an error", n, err)
	}
}

// TestStore_ListParts_Pages lists an upload's parts across several pages.
func TestStore_ListParts_Pages(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "parts")
	st := newStore(t, srv, "parts", "p")
	st.pageSize = 2
	up, err := st.CreateMultipart(ctx, "obj", 5*MinPartSize, MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	defer st.AbortMultipart(ctx, "obj", up.ID)
	// Parts may be uploaded small when the upload is never completed.
	for _, n := range []int{4, 0, 2, 1, 3} {
		data := []byte(strings.Repeat(fmt.Sprint(n), n+1))
		if _, err := st.UploadPart(ctx, "obj", up.ID, n, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
	}
	parts, err := st.ListParts(ctx, "obj", up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 5 {
		t.Fatalf("ListParts with pages of 2: %d parts %+v, want 5", len(parts), parts)
	}
	for i, p := range parts {
		if p.Number != i || p.Size != int64(i+1) || p.ETag == "" {
			t.Errorf("part %d = %+v, want Number %d Size %d and an ETag", i, p, i, i+1)
		}
	}
	if err := st.AbortMultipart(ctx, "obj", up.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ListParts(ctx, "obj", up.ID); err == nil {
		t.Error("ListParts after abort: no error")
	}
}

// TestStore_MissingBucket: tree operations on a missing bucket fail
// instead of showing an empty tree.
func TestStore_MissingBucket(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	st := newStore(t, srv, "nobucket", "")
	if err := st.Walk(ctx, fs.All, func(e fs.Entry) error { return nil }); err == nil {
		t.Error("Walk of a missing bucket: no error")
	}
	if err := st.ReadDir(ctx, "", func(e fs.Entry) error { return nil }); err == nil {
		t.Error("ReadDir of a missing bucket's root: no error")
	}
	if _, err := st.Stat(ctx, "x"); err == nil {
		t.Error("Stat in a missing bucket: no error")
	}
	if _, err := st.Put(ctx, "x", strings.NewReader("x"), 1); err == nil || !st.IsPermanent(err) {
		t.Errorf("Put into a missing bucket: err = %v, want a permanent error", err)
	}
}
