package local_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	md5simd "github.com/minio/md5-simd"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
	"github.com/ferry-project/ferry/fs/sinktest"
)

// newSink returns a Sink over a fresh directory and that directory.
func newSink(t *testing.T) (*local.Sink, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "dst")
	s, err := local.NewSink(root)
	if err != nil {
		t.Fatalf("NewSink: %v", err)
	}
	return s, root
}

func TestSink_Conformance(t *testing.T) {
	s, root := newSink(t)
	sinktest.Run(t, s, func(ctx context.Context, key string) ([]byte, error) {
		return os.ReadFile(filepath.Join(root, filepath.FromSlash(key)))
	})
}

// TestSink_ConformanceSIMD runs the suite with objects and parts of 1 MiB
// and more hashed in SIMD lanes, as ferry runs the Sink.
func TestSink_ConformanceSIMD(t *testing.T) {
	srv := md5simd.NewServer()
	defer srv.Close()
	root := filepath.Join(t.TempDir(), "dst")
	s, err := local.NewSinkWith(root, local.SinkOptions{MD5: srv})
	if err != nil {
		t.Fatal(err)
	}
	sinktest.Run(t, s, func(ctx context.Context, key string) ([]byte, error) {
		return os.ReadFile(filepath.Join(root, filepath.FromSlash(key)))
	})
}

func TestSink_NewSink(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := local.NewSink(file); err == nil {
		t.Errorf("NewSink(a file): err = %v, want an error", err)
	}
	if _, err := local.NewSink(filepath.Join(dir, "new/nested")); err != nil {
		t.Errorf("NewSink(missing dir): %v, want it created", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "new/nested")); err != nil || !fi.IsDir() {
		t.Errorf("NewSink did not create its root: %v", err)
	}
}

func TestSink_PutRejectsInvalidKeys(t *testing.T) {
	s, root := newSink(t)
	ctx := context.Background()
	keys := []string{"", "/etc/passwd", "../escape", "a/../../escape", "a/./b", "a//b", "..", ".", "a\x00b",
		".ferry-uploads/x", strings.Repeat("x", 256), "/"}
	for _, key := range keys {
		_, err := s.Put(ctx, key, strings.NewReader("data"), 4)
		if !errors.Is(err, local.ErrInvalidKey) || !s.IsPermanent(err) {
			t.Errorf("Put(%q): err = %v, want permanent local.ErrInvalidKey", key, err)
		}
		if _, err := s.CreateMultipart(ctx, key, 3<<20, 1<<20); !errors.Is(err, local.ErrInvalidKey) {
			t.Errorf("CreateMultipart(%q): err = %v, want local.ErrInvalidKey", key, err)
		}
		if _, err := s.Head(ctx, key); !errors.Is(err, local.ErrInvalidKey) {
			t.Errorf("Head(%q): err = %v, want local.ErrInvalidKey", key, err)
		}
	}
	// Nothing may have been written next to the root.
	des, err := os.ReadDir(filepath.Dir(root))
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 || des[0].Name() != "dst" {
		t.Errorf("after rejected keys the root's parent holds %d entries, want only dst", len(des))
	}
	if des, _ := os.ReadDir(root); len(des) != 0 {
		t.Errorf("after rejected keys the root holds %d entries, want none", len(des))
	}
}

func TestSink_PutKeyConflict(t *testing.T) {
	s, _ := newSink(t)
	ctx := context.Background()
	put := func(key string) error {
		_, err := s.Put(ctx, key, strings.NewReader("x"), 1)
		return err
	}
	if err := put("file"); err != nil {
		t.Fatal(err)
	}
	if err := put("dir/child"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"file/under", "file/deeper/under", "dir"} {
		err := put(key)
		if !errors.Is(err, local.ErrKeyConflict) || !s.IsPermanent(err) {
			t.Errorf("Put(%q): err = %v, want permanent local.ErrKeyConflict", key, err)
		}
	}
	if _, err := s.CreateMultipart(ctx, "file/under", 3<<20, 1<<20); !errors.Is(err, local.ErrKeyConflict) {
		t.Errorf("CreateMultipart(file/under): err = %v, want local.ErrKeyConflict", err)
	}
	if _, err := s.Head(ctx, "file/under"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head(file/under): err = %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Head(ctx, "dir"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head(dir) of a directory: err = %v, want fs.ErrNotExist", err)
	}
}

// failingReader returns n bytes and then an error.
type failingReader struct {
	r io.ReadSeeker
	n int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("source broke")
	}
	p = p[:min(int64(len(p)), f.n)]
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

func (f *failingReader) Seek(off int64, whence int) (int64, error) { return f.r.Seek(off, whence) }

func TestSink_PutNeverLeavesHalfFile(t *testing.T) {
	s, root := newSink(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "d/f", strings.NewReader("old content"), 11); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Put(ctx, "d/g", strings.NewReader("hello\n"), 6); err != nil || info.ETag != "b1946ac92492d2347c6235b4d2611184" {
		t.Errorf("Put(d/g) = %+v, %v; want ETag = MD5 of the content", info, err)
	}
	data := bytes.Repeat([]byte("new"), 100000)
	_, err := s.Put(ctx, "d/f", &failingReader{r: bytes.NewReader(data), n: 150000}, int64(len(data)))
	if err == nil {
		t.Fatal("Put from a reader that breaks: no error")
	}
	if s.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true for a broken source, want false", err)
	}
	got, err := os.ReadFile(filepath.Join(root, "d/f"))
	if err != nil || string(got) != "old content" {
		t.Errorf("after a failed Put the file holds %q, %v; want the old content", got, err)
	}
	_, err = s.Put(ctx, "d/short", strings.NewReader("abc"), 10)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Put of 10 bytes from a 3-byte reader: err = %v, want io.ErrUnexpectedEOF", err)
	}
	des, err := os.ReadDir(filepath.Join(root, "d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 2 || des[0].Name() != "f" || des[1].Name() != "g" {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Errorf("after failed Puts dir d holds %q, want f and g (no temp or half files)", names)
	}
}

func TestSink_PutFolderMarker(t *testing.T) {
	s, root := newSink(t)
	ctx := context.Background()
	info, err := s.Put(ctx, "x/y/", strings.NewReader(""), 0)
	if err != nil {
		t.Fatalf("Put(folder marker): %v", err)
	}
	if info.ETag != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Errorf("Put(folder marker): ETag = %q, want the MD5 of nothing", info.ETag)
	}
	if fi, err := os.Stat(filepath.Join(root, "x/y")); err != nil || !fi.IsDir() {
		t.Errorf("folder marker x/y/ did not create a directory: %v", err)
	}
	if hi, err := s.Head(ctx, "x/y/"); err != nil || hi.Size != 0 {
		t.Errorf("Head(x/y/) = %+v, %v; want size 0", hi, err)
	}
	if _, err := s.Put(ctx, "x/z/", strings.NewReader("data"), 4); !errors.Is(err, local.ErrInvalidRequest) {
		t.Errorf("Put(non-empty folder marker): err = %v, want local.ErrInvalidRequest", err)
	}
}
