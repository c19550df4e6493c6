package fstest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// open opens the file of key or fails the test.
func open(t *testing.T, tree fs.Tree, key string) fs.File {
	t.Helper()
	f, err := tree.Open(context.Background(), fs.KeyToPath(key))
	if err != nil {
		t.Fatalf("Open(%q): %v", fs.KeyToPath(key), err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("Close(%q): %v", key, err)
		}
	})
	return f
}

func testOpenReadAll(t *testing.T, tree fs.Tree, files []fileInfo) {
	for _, fi := range files {
		f, err := tree.Open(context.Background(), fi.path)
		if err != nil {
			t.Errorf("Open(%q): %v", fi.path, err)
			continue
		}
		got, err := io.ReadAll(io.NewSectionReader(f, 0, int64(len(fi.data))))
		if err != nil {
			t.Errorf("read %q through io.NewSectionReader: %v", fi.path, err)
		} else if !bytes.Equal(got, fi.data) {
			t.Errorf("read %q: %d bytes differ from the %d written", fi.path, len(got), len(fi.data))
		}
		if err := f.Close(); err != nil {
			t.Errorf("Close(%q): %v", fi.path, err)
		}
	}
}

// readAtCase is one ReadAt call and what io.ReaderAt semantics demand.
type readAtCase struct {
	off    int64
	length int
}

func testReadAt(t *testing.T, tree fs.Tree, files Files) {
	data := files[BigKey]
	size := int64(len(data))
	f := open(t, tree, BigKey)
	cases := []readAtCase{
		{0, 1000}, {0, 1}, {size / 2, 4096}, {size/2 + 7, 1 << 20},
		{size - 10, 10}, {size - 10, 100}, {size - 1, 1}, {size, 10}, {size + 100, 10},
	}
	for _, c := range cases {
		checkReadAt(t, f, data, c)
	}
	empty := open(t, tree, "empty/zero.bin")
	checkReadAt(t, empty, nil, readAtCase{0, 10})
	small := open(t, tree, "a-c")
	checkReadAt(t, small, files["a-c"], readAtCase{2, 1000})
}

// checkReadAt checks one ReadAt call against io.ReaderAt's contract: when
// n < len(p) the error is non-nil (io.EOF at the end of the file); a read
// ending exactly at the end may return nil or io.EOF.
func checkReadAt(t *testing.T, f fs.File, data []byte, c readAtCase) {
	t.Helper()
	p := make([]byte, c.length)
	n, err := f.ReadAt(p, c.off)
	size := int64(len(data))
	want := 0
	if c.off < size {
		want = int(min(int64(c.length), size-c.off))
	}
	if n != want {
		t.Errorf("ReadAt(len %d, off %d) of a %d-byte file: n = %d, want %d (err %v)", c.length, c.off, size, n, want, err)
		return
	}
	if !bytes.Equal(p[:n], data[min(c.off, size):min(c.off, size)+int64(n)]) {
		t.Errorf("ReadAt(len %d, off %d): wrong bytes", c.length, c.off)
	}
	switch {
	case n < c.length && !errors.Is(err, io.EOF):
		t.Errorf("ReadAt(len %d, off %d) of a %d-byte file: short read with err = %v, want io.EOF", c.length, c.off, size, err)
	case n == c.length && err != nil && !errors.Is(err, io.EOF):
		t.Errorf("ReadAt(len %d, off %d): full read with err = %v", c.length, c.off, err)
	case n == c.length && errors.Is(err, io.EOF) && c.off+int64(n) < size:
		t.Errorf("ReadAt(len %d, off %d) of a %d-byte file: io.EOF before the end", c.length, c.off, size)
	}
}

func testReadAtConcurrent(t *testing.T, tree fs.Tree, files Files) {
	data := files[BigKey]
	f := open(t, tree, BigKey)
	got := make([]byte, len(data))
	const workers = 8
	const chunk = 256 << 10
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Worker w reads chunks w, w+8, … from the end backwards so the
			// reads interleave at scattered offsets.
			nChunks := (len(data) + chunk - 1) / chunk
			for i := nChunks - 1 - w; i >= 0; i -= workers {
				off := i * chunk
				end := min(off+chunk, len(data))
				n, err := f.ReadAt(got[off:end], int64(off))
				if n != end-off || (err != nil && !errors.Is(err, io.EOF)) {
					t.Errorf("concurrent ReadAt(off %d, len %d): n = %d, err = %v", off, end-off, n, err)
				}
			}
		}()
	}
	wg.Wait()
	if !bytes.Equal(got, data) {
		t.Errorf("8 goroutines reading %s with ReadAt assembled different bytes", BigKey)
	}
}

func testOpenErrors(t *testing.T, tree fs.Tree, files []fileInfo) {
	ctx := context.Background()
	for _, p := range []string{"missing", "a/missing.txt", "many/f-050.txt"} {
		f, err := tree.Open(ctx, p)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) of a missing file: err = %v, want fs.ErrNotExist", p, err)
		}
		if err == nil {
			f.Close()
		}
	}
	f, err := tree.Open(ctx, "a/b")
	if err == nil {
		f.Close()
		t.Errorf("Open(%q) of a directory: no error", "a/b")
	}
}

// testOpenEntry checks fs.EntryOpener, when the Tree has it: every walked
// entry opens without Stat and reads back exactly.
func testOpenEntry(t *testing.T, tree fs.Tree, files Files) {
	eo, ok := tree.(fs.EntryOpener)
	if !ok {
		return
	}
	seen := 0
	err := tree.Walk(context.Background(), fs.All, func(e fs.Entry) error {
		data, ok := files[e.ObjectKey()]
		if !ok {
			t.Errorf("Walk yielded %q, which is not in the fixture", e.ObjectKey())
			return nil
		}
		seen++
		f, err := eo.OpenEntry(context.Background(), e)
		if err != nil {
			t.Errorf("OpenEntry(%q): %v", e.Path, err)
			return nil
		}
		defer f.Close()
		got, err := io.ReadAll(io.NewSectionReader(f, 0, e.Size))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("read %q through OpenEntry: %d bytes, err %v; want the %d written", e.Path, len(got), err, len(data))
		}
		return nil
	})
	if err != nil {
		t.Errorf("Walk: %v", err)
	}
	if seen != len(files) {
		t.Errorf("OpenEntry checked %d files, want %d", seen, len(files))
	}
}
