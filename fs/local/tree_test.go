package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/fstest"
	"github.com/ferry-project/ferry/fs/local"
)

// writeFiles creates files (key → content) under root.
func writeFiles(t *testing.T, root string, files fstest.Files) {
	t.Helper()
	for k, v := range files {
		p := filepath.Join(root, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, v, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// walkPaths returns the paths Walk(r) yields.
func walkPaths(t *testing.T, tree fs.Tree, r fs.Range) []string {
	t.Helper()
	var got []string
	if err := tree.Walk(context.Background(), r, func(e fs.Entry) error {
		got = append(got, e.Path)
		return nil
	}); err != nil {
		t.Fatalf("Walk(%+v): %v", r, err)
	}
	return got
}

func TestTree_Conformance(t *testing.T) {
	root := t.TempDir()
	files := fstest.Fixture()
	writeFiles(t, root, files)
	tree, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	fstest.Run(t, files, tree)
}

func TestTree_New(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, fstest.Files{"file": []byte("x")})
	if _, err := local.New(filepath.Join(root, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("New(missing dir): err = %v, want fs.ErrNotExist", err)
	}
	if _, err := local.New(filepath.Join(root, "file")); !errors.Is(err, fs.ErrNotDir) {
		t.Errorf("New(a file): err = %v, want fs.ErrNotDir", err)
	}
	tree, err := local.New(root)
	if err != nil {
		t.Fatalf("New(dir): %v", err)
	}
	if tree.Root() != root {
		t.Errorf("Root() = %q, want %q", tree.Root(), root)
	}
}

func TestTree_StatInvalidPath(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeFiles(t, base, fstest.Files{"secret": []byte("outside"), "root/in": []byte("inside")})
	tree, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"../secret", "/in", "in/", "./in", "a//in", "in\x00", "."} {
		if _, err := tree.Stat(context.Background(), p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q): err = %v, want fs.ErrNotExist", p, err)
		}
		if f, err := tree.Open(context.Background(), p); err == nil {
			f.Close()
			t.Errorf("Open(%q): no error", p)
		}
	}
}

func TestTree_Symlinks(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, fstest.Files{"d/target.txt": []byte("target"), "z.txt": []byte("z")})
	links := map[string]string{
		"d/file-link": "target.txt", // to a file: served
		"d/loop":      "..",         // to a directory (a loop): left out
		"dangling":    "nowhere",    // broken: left out
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "d/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	got := walkPaths(t, tree, fs.All)
	want := []string{"d/file-link", "d/target.txt", "z.txt"}
	if !equal(got, want) {
		t.Errorf("Walk = %q, want %q (links to files followed; dir links, dangling links and FIFOs left out)", got, want)
	}
	var names []string
	if err := tree.ReadDir(ctx, "d", func(e fs.Entry) error { names = append(names, e.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"d/file-link", "d/target.txt"}; !equal(names, want) {
		t.Errorf("ReadDir(d) = %q, want %q", names, want)
	}
	e, err := tree.Stat(ctx, "d/file-link")
	if err != nil || e.Size != 6 || !e.Mode.IsRegular() {
		t.Errorf("Stat(link to file) = %+v, %v; want a 6-byte regular file", e, err)
	}
	for _, p := range []string{"d/loop", "dangling", "d/fifo"} {
		if _, err := tree.Stat(ctx, p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q): err = %v, want fs.ErrNotExist", p, err)
		}
		if f, err := tree.Open(ctx, p); err == nil { // a FIFO must not hang Open
			f.Close()
			t.Errorf("Open(%q): no error", p)
		}
	}
}

func TestTree_ReadDirOfFile(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, fstest.Files{"f": []byte("x")})
	tree, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.ReadDir(context.Background(), "f", func(fs.Entry) error { return nil }); !errors.Is(err, fs.ErrNotDir) {
		t.Errorf("ReadDir(file): err = %v, want fs.ErrNotDir", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
