package mount

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"github.com/ferry-project/ferry/internal/syncbuf"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
)

// bigSize is the fixture's large file: 20 MiB and one byte, so it ends off
// every chunk boundary.
const bigSize = 20<<20 + 1

// fixture writes the standard test tree under dir and returns every file's
// content by '/'-separated relative path.
func fixture(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{
		"plain.txt":                                 []byte("plain\n"),
		"nested/a/b/c/deep.txt":                     []byte("deep\n"),
		"nested/a/sibling.txt":                      []byte("sibling\n"),
		"with space/file name.txt":                  []byte("spaces\n"),
		"ü/日本語.txt":                                 []byte("unicode\n"),
		"sym/100% done.txt":                         []byte("percent\n"),
		"sym/a+b=c.txt":                             []byte("plus\n"),
		"sym/#tag.txt":                              []byte("hash\n"),
		"long/" + strings.Repeat("n", 196) + ".txt": []byte("200-byte name\n"),
		"long/" + strings.Repeat("é", 100):          []byte("200-byte unicode name\n"),
		"empty/zero.bin":                            {},
		"a-c":                                       []byte("sorts before a/\n"),
		"a/b.txt":                                   []byte("in a\n"),
		"a0":                                        []byte("sorts after a/\n"),
		"small.bin":                                 randomBytes(100<<10, 7),
		"big/random.bin":                            randomBytes(bigSize, 1),
	}
	for i := 0; i < 30; i++ {
		files[fmt.Sprintf("many/f-%03d.txt", i)] = bytes.Repeat([]byte{byte('a' + i%26)}, i*37)
	}
	for p, b := range files {
		abs := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(abs, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	return files
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed byte) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{'m', 'o', 'u', 'n', 't', seed}))
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n:n]
}

// localTree opens a local tree over dir.
func localTree(t *testing.T, dir string) *local.Tree {
	t.Helper()
	tr, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// mountT mounts tree on a fresh directory and unmounts it when the test
// ends, however it ends (forcing a lazy detach as a last resort).
func mountT(t *testing.T, tree fs.Tree, o Options) (*Server, string) {
	t.Helper()
	return mountAt(t, tree, t.TempDir(), o, true)
}

func mountAt(t *testing.T, tree fs.Tree, mp string, o Options, kernelRO bool) (*Server, string) {
	t.Helper()
	s, err := mountTree(context.Background(), tree, mp, o, kernelRO)
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	t.Cleanup(func() { unmountT(t, s) })
	return s, s.Mountpoint()
}

// unmountT unmounts s and waits for it to stop serving.
func unmountT(t *testing.T, s *Server) {
	t.Helper()
	if err := s.Unmount(); err != nil {
		t.Errorf("Unmount: %v", err)
		_ = syscall.Unmount(s.Mountpoint(), syscall.MNT_DETACH|syscall.MNT_FORCE)
	}
	done := make(chan struct{})
	go func() { s.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		t.Errorf("server still serving a minute after Unmount")
	}
}

// logBuffer is a concurrency-safe slog sink for asserting on warnings.
type logBuffer struct{ syncbuf.Buffer }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// readCall is one ReadAt seen by countingTree.
type readCall struct {
	path string
	off  int64
	n    int
}

// countingTree wraps a Tree and records its calls: the mount's requests to
// the store, as a test sees them.
type countingTree struct {
	fs.Tree
	mu       sync.Mutex
	readDirs map[string]int
	stats    int
	reads    []readCall
	noVer    bool // blank every Entry.Version
}

var _ fs.Tree = (*countingTree)(nil)

func newCountingTree(tr fs.Tree) *countingTree {
	return &countingTree{Tree: tr, readDirs: make(map[string]int)}
}

func (c *countingTree) Stat(ctx context.Context, p string) (fs.Entry, error) {
	c.mu.Lock()
	c.stats++
	c.mu.Unlock()
	e, err := c.Tree.Stat(ctx, p)
	if c.noVer {
		e.Version = ""
	}
	return e, err
}

func (c *countingTree) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	c.mu.Lock()
	c.readDirs[dir]++
	c.mu.Unlock()
	return c.Tree.ReadDir(ctx, dir, func(e fs.Entry) error {
		if c.noVer {
			e.Version = ""
		}
		return fn(e)
	})
}

func (c *countingTree) Open(ctx context.Context, p string) (fs.File, error) {
	f, err := c.Tree.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, c: c, path: p}, nil
}

func (c *countingTree) readDirCounts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.readDirs))
	for k, v := range c.readDirs {
		out[k] = v
	}
	return out
}

// readsOf returns the ReadAt calls made on path.
func (c *countingTree) readsOf(p string) []readCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []readCall
	for _, r := range c.reads {
		if r.path == p {
			out = append(out, r)
		}
	}
	return out
}

type countingFile struct {
	fs.File
	c    *countingTree
	path string
}

func (f *countingFile) ReadAt(p []byte, off int64) (int, error) {
	f.c.mu.Lock()
	f.c.reads = append(f.c.reads, readCall{path: f.path, off: off, n: len(p)})
	f.c.mu.Unlock()
	return f.File.ReadAt(p, off)
}

// memTree is a small in-memory Tree whose listings are given verbatim, so
// a test can hand the mount names and errors no real driver produces.
type memTree struct {
	dirs  map[string][]fs.Entry // listing of each directory, as ReadDir gives it
	files map[string][]byte
	errs  map[string]error // ReadDir error per directory
}

var _ fs.Tree = (*memTree)(nil)

func (m *memTree) Stat(ctx context.Context, p string) (fs.Entry, error) {
	if p == "" {
		return fs.Entry{Mode: os.ModeDir | 0o755}, nil
	}
	dir := path.Dir(p)
	if dir == "." {
		dir = ""
	}
	for _, e := range m.dirs[dir] {
		if e.Path == p {
			return e, nil
		}
	}
	return fs.Entry{}, fmt.Errorf("stat %q: %w", p, fs.ErrNotExist)
}

func (m *memTree) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	if err := m.errs[dir]; err != nil {
		return fmt.Errorf("read dir %q: %w", dir, err)
	}
	list, ok := m.dirs[dir]
	if !ok {
		return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotExist)
	}
	for _, e := range list {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (m *memTree) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	paths := make([]string, 0, len(m.files))
	for p := range m.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if r.Contains(p) {
			if err := fn(fs.Entry{Path: p, Size: int64(len(m.files[p]))}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memTree) Open(ctx context.Context, p string) (fs.File, error) {
	b, ok := m.files[p]
	if !ok {
		return nil, fmt.Errorf("open %q: %w", p, fs.ErrNotExist)
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

type nopCloser struct{ io.ReaderAt }

func (nopCloser) Close() error { return nil }

// seqTree marks every file of a Tree as readable only in order.
type seqTree struct{ *countingTree }

var _ fs.SequentialOnly = seqTree{}

func (seqTree) SequentialOnly(string) bool { return true }
