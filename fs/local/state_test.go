package local_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
)

// TestTree_HidesSinkState: a directory that is being written as a
// destination — here with a multipart upload in progress and a stray
// temporary file — reads back as a source with only its stored objects:
// Walk, ReadDir and Stat leave out .ferry-uploads and .ferry-tmp-* files.
func TestTree_HidesSinkState(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	sink, err := local.NewSink(root)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("stored object")
	if _, err := sink.Put(ctx, "dir/done.txt", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	up, err := sink.CreateMultipart(ctx, "big.bin", 10<<20, 5<<20)
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 5<<20)
	if _, err := sink.UploadPart(ctx, "big.bin", up.ID, 0, bytes.NewReader(part), int64(len(part))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "dir", ".ferry-tmp-123"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".ferry-uploads")); err != nil {
		t.Fatalf("the sink staged no upload under .ferry-uploads: %v", err)
	}

	tree, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	var walked []string
	if err := tree.Walk(ctx, fs.All, func(e fs.Entry) error { walked = append(walked, e.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"dir/done.txt"}; !reflect.DeepEqual(walked, want) {
		t.Errorf("Walk = %q, want %q", walked, want)
	}
	for dir, want := range map[string][]string{"": {"dir"}, "dir": {"dir/done.txt"}} {
		var got []string
		if err := tree.ReadDir(ctx, dir, func(e fs.Entry) error { got = append(got, e.Path); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ReadDir(%q) = %q, want %q", dir, got, want)
		}
	}
	for _, p := range []string{".ferry-uploads", "dir/.ferry-tmp-123"} {
		if _, err := tree.Stat(ctx, p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v, want not found", p, err)
		}
	}
}
