package azblob

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// TestStore_Account reads and writes a whole account: every container is
// a top-level directory, walked in path order ("alpha-b/…" before
// "alpha/…"), with ranges across containers.
func TestStore_Account(t *testing.T) {
	srv := azuritetest.Start(t)
	content := map[string]map[string][]byte{
		"alpha":   {"a.txt": []byte("alpha a"), "m/n.txt": []byte("alpha m/n"), "z.txt": []byte("alpha z")},
		"alpha-b": {"x.txt": []byte("alpha-b x")},
		"beta":    {"b/c.txt": []byte("beta b/c"), "d.txt": []byte("beta d")},
		"empty-c": {},
	}
	for c, files := range content {
		srv.CreateContainer(t, c)
		upload(t, srv, c, files)
	}
	st := newStore(t, srv, "", "")
	st.pageSize = 2 // containers and blobs both paginate
	ctx := context.Background()

	all := []string{"alpha-b/x.txt", "alpha/a.txt", "alpha/m/n.txt", "alpha/z.txt", "beta/b/c.txt", "beta/d.txt"}
	if got := keys(walkAll(t, st, fs.All)); !slices.Equal(got, all) {
		t.Errorf("Walk(all) = %q, want %q", got, all)
	}
	for _, r := range []fs.Range{
		{Start: "alpha/m", End: "beta/c"},
		{Start: "alpha-b/y", End: "alpha/b"},
		{Start: "alpha/", End: "alpha0"},
		{Start: "b", End: "beta/"},
		{Start: "beta/b/c.txt"},
		{End: "alpha/m/n.txt"},
		{Start: "c"},
	} {
		var want []string
		for _, k := range all {
			if r.Contains(k) {
				want = append(want, k)
			}
		}
		if got := keys(walkAll(t, st, r)); !slices.Equal(got, want) {
			t.Errorf("Walk(%+v) = %q, want %q", r, got, want)
		}
	}

	var root []string
	if err := st.ReadDir(ctx, "", func(e fs.Entry) error {
		if !e.IsDir() {
			t.Errorf("ReadDir(root): %q is not a directory", e.Path)
		}
		root = append(root, e.Path)
		return nil
	}); err != nil {
		t.Fatalf("ReadDir(root): %v", err)
	}
	if want := []string{"alpha", "alpha-b", "beta", "empty-c"}; !slices.Equal(root, want) {
		t.Errorf("ReadDir(root) = %q, want %q", root, want)
	}
	var sub []string
	if err := st.ReadDir(ctx, "alpha", func(e fs.Entry) error { sub = append(sub, e.Path); return nil }); err != nil {
		t.Fatalf("ReadDir(alpha): %v", err)
	}
	if want := []string{"alpha/a.txt", "alpha/m", "alpha/z.txt"}; !slices.Equal(sub, want) {
		t.Errorf("ReadDir(alpha) = %q, want %q", sub, want)
	}
	if err := st.ReadDir(ctx, "empty-c", func(e fs.Entry) error { t.Errorf("empty container holds %q", e.Path); return nil }); err != nil {
		t.Errorf("ReadDir(empty-c): %v", err)
	}
	if err := st.ReadDir(ctx, "nosuch", func(fs.Entry) error { return nil }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir(nosuch) = %v, want fs.ErrNotExist", err)
	}

	if e, err := st.Stat(ctx, "beta"); err != nil || !e.IsDir() {
		t.Errorf("Stat(beta) = %+v, %v; want a directory", e, err)
	}
	if e, err := st.Stat(ctx, "beta/b"); err != nil || !e.IsDir() || e.Path != "beta/b" {
		t.Errorf("Stat(beta/b) = %+v, %v; want a directory", e, err)
	}
	for _, p := range []string{"nosuch", "beta/nosuch", "UPPER", "ab"} {
		if _, err := st.Stat(ctx, p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v, want fs.ErrNotExist", p, err)
		}
	}
	e, err := st.Stat(ctx, "alpha/m/n.txt")
	if err != nil || e.Size != int64(len("alpha m/n")) || e.ObjectKey() != "alpha/m/n.txt" {
		t.Fatalf("Stat(alpha/m/n.txt) = %+v, %v", e, err)
	}
	f, err := st.OpenEntry(ctx, e)
	if err != nil {
		t.Fatalf("OpenEntry: %v", err)
	}
	if got := readAll(t, f, e.Size); string(got) != "alpha m/n" {
		t.Errorf("read alpha/m/n.txt = %q", got)
	}
	f.Close()
	if _, err := st.Open(ctx, "alpha"); !errors.Is(err, fs.ErrIsDir) {
		t.Errorf("Open(alpha) = %v, want fs.ErrIsDir", err)
	}
	if _, err := st.Open(ctx, "alpha/m"); !errors.Is(err, fs.ErrIsDir) {
		t.Errorf("Open(alpha/m) = %v, want fs.ErrIsDir", err)
	}

	// The Sink of a whole account writes CONTAINER/KEY.
	data := []byte("written through the account")
	if _, err := st.Put(ctx, "empty-c/new/file.txt", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(empty-c/new/file.txt): %v", err)
	}
	got, err := readBack(srv, "empty-c", "")(ctx, "new/file.txt")
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back empty-c/new/file.txt = %q, %v", got, err)
	}
	if info, err := st.Head(ctx, "empty-c/new/file.txt"); err != nil || info.Size != int64(len(data)) {
		t.Errorf("Head(empty-c/new/file.txt) = %+v, %v", info, err)
	}
	for _, key := range []string{"no-key", "Bad_Container/x"} {
		_, err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data)))
		if err == nil || !st.IsPermanent(err) {
			t.Errorf("Put(%q) = %v, want a permanent error", key, err)
		}
	}
}
