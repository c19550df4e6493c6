package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-project/ferry/fs/local"
)

// TestSink_Delete: an object is removed, a missing one is no error, and
// keys that escape the root or name the sink's own state are refused
// without touching anything.
func TestSink_Delete(t *testing.T) {
	root := t.TempDir()
	s, err := local.NewSink(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a/b.txt", "keep.txt", ".ferry-uploads/u1/part", "a/.ferry-tmp-9"} {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := s.Delete(ctx, "a/b.txt"); err != nil {
		t.Fatalf("Delete(a/b.txt) = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "b.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a/b.txt still there (%v)", err)
	}
	if err := s.Delete(ctx, "a/b.txt"); err != nil {
		t.Fatalf("Delete of a missing key = %v, want nil", err)
	}
	for _, key := range []string{"", "/etc/passwd", "../x", "a/../../x", ".ferry-uploads/u1/part", "a/.ferry-tmp-9", "a//b"} {
		if err := s.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q) = nil, want a refusal", key)
		}
	}
	for _, p := range []string{"keep.txt", ".ferry-uploads/u1/part", "a/.ferry-tmp-9"} {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
			t.Errorf("%s was touched: %v", p, err)
		}
	}
}
