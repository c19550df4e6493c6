package fstest

import (
	"context"
	"errors"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// errStop is returned by callbacks to check that a Tree stops and returns it.
var errStop = errors.New("fstest: stop here")

// Run runs every conformance subtest against tree, which must hold exactly
// files at its root. It only reads the tree.
func Run(t *testing.T, files Files, tree fs.Tree) {
	t.Helper()
	sorted := sortedFiles(files)
	t.Run("Stat", func(t *testing.T) { testStat(t, tree, sorted) })
	t.Run("StatConcurrent", func(t *testing.T) { testStatConcurrent(t, tree, sorted) })
	t.Run("ReadDir", func(t *testing.T) { testReadDir(t, tree, sorted) })
	t.Run("Walk", func(t *testing.T) { testWalkAll(t, tree, sorted) })
	t.Run("WalkRange", func(t *testing.T) { testWalkRange(t, tree, sorted) })
	t.Run("WalkStop", func(t *testing.T) { testWalkStop(t, tree, sorted) })
	t.Run("WalkCancel", func(t *testing.T) { testWalkCancel(t, tree, sorted) })
	t.Run("OpenReadAll", func(t *testing.T) { testOpenReadAll(t, tree, sorted) })
	t.Run("ReadAt", func(t *testing.T) { testReadAt(t, tree, files) })
	t.Run("ReadAtConcurrent", func(t *testing.T) { testReadAtConcurrent(t, tree, files) })
	t.Run("Open", func(t *testing.T) { testOpenErrors(t, tree, sorted) })
	t.Run("OpenEntry", func(t *testing.T) { testOpenEntry(t, tree, files) })
}

// checkFileEntry compares a file entry with the expected file.
func checkFileEntry(t *testing.T, what string, e fs.Entry, f fileInfo) {
	t.Helper()
	if e.Path != f.path {
		t.Errorf("%s: Path = %q, want %q", what, e.Path, f.path)
	}
	if e.ObjectKey() != f.key {
		t.Errorf("%s: ObjectKey() = %q, want %q", what, e.ObjectKey(), f.key)
	}
	if e.IsDir() || !e.Mode.IsRegular() {
		t.Errorf("%s: Mode = %v, want a regular file", what, e.Mode)
	}
	if e.Size != int64(len(f.data)) {
		t.Errorf("%s: Size = %d, want %d", what, e.Size, len(f.data))
	}
	if e.Version == "" {
		t.Errorf("%s: Version is empty", what)
	}
	checkModTime(t, what, e.ModTime)
}

// checkModTime checks that a file's time is set and plausible.
func checkModTime(t *testing.T, what string, mt time.Time) {
	t.Helper()
	if mt.IsZero() || mt.Year() < 2000 || mt.After(time.Now().Add(48*time.Hour)) {
		t.Errorf("%s: ModTime = %v, want a plausible time", what, mt)
	}
}

func testStat(t *testing.T, tree fs.Tree, files []fileInfo) {
	ctx := context.Background()
	for _, f := range files {
		e, err := tree.Stat(ctx, f.path)
		if err != nil {
			t.Errorf("Stat(%q): %v", f.path, err)
			continue
		}
		checkFileEntry(t, "Stat("+f.path+")", e, f)
	}
	for d := range dirs(files) {
		e, err := tree.Stat(ctx, d)
		if err != nil {
			t.Errorf("Stat(%q) of a directory: %v", d, err)
			continue
		}
		if !e.IsDir() {
			t.Errorf("Stat(%q): Mode = %v, want a directory", d, e.Mode)
		}
		if e.Path != d {
			t.Errorf("Stat(%q): Path = %q", d, e.Path)
		}
	}
	for _, p := range []string{"missing", "a/missing.txt", "a/b/c/d/e/f/g", "many/f-050.txt", "A", "a/b/c/d/e/f/deep.tx"} {
		_, err := tree.Stat(ctx, p)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) of a missing path: err = %v, want fs.ErrNotExist", p, err)
		}
	}
	p := "a/b/c/d/e/f/deep.txt/under-a-file"
	if _, err := tree.Stat(ctx, p); !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrNotDir) {
		t.Errorf("Stat(%q): err = %v, want fs.ErrNotExist or fs.ErrNotDir", p, err)
	}
}

func testStatConcurrent(t *testing.T, tree fs.Tree, files []fileInfo) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(files); i += 4 {
				e, err := tree.Stat(ctx, files[i].path)
				if err != nil {
					t.Errorf("concurrent Stat(%q): %v", files[i].path, err)
					continue
				}
				if e.Size != int64(len(files[i].data)) {
					t.Errorf("concurrent Stat(%q): Size = %d, want %d", files[i].path, e.Size, len(files[i].data))
				}
			}
		}()
	}
	wg.Wait()
}

func testReadDir(t *testing.T, tree fs.Tree, files []fileInfo) {
	ctx := context.Background()
	byPath := map[string]fileInfo{}
	for _, f := range files {
		byPath[f.path] = f
	}
	for d, want := range dirs(files) {
		var got []fs.Entry
		err := tree.ReadDir(ctx, d, func(e fs.Entry) error { got = append(got, e); return nil })
		if err != nil {
			t.Errorf("ReadDir(%q): %v", d, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("ReadDir(%q): %d entries %v, want %d %v", d, len(got), entryPaths(got), len(want), want)
			continue
		}
		for i, e := range got {
			w := want[i]
			if dir, name := path.Split(e.Path); name != w.name || (dir != "" && dir[:len(dir)-1] != d) || (dir == "" && d != "") {
				t.Errorf("ReadDir(%q)[%d]: Path = %q, want name %q in %q (byte order of names)", d, i, e.Path, w.name, d)
				continue
			}
			if w.isDir {
				if !e.IsDir() {
					t.Errorf("ReadDir(%q): %q Mode = %v, want a directory", d, e.Path, e.Mode)
				}
				continue
			}
			checkFileEntry(t, "ReadDir("+d+")", e, byPath[e.Path])
		}
	}
	for _, d := range []string{"missing", "a/missing", "a/b/c/d/e/f/g"} {
		err := tree.ReadDir(ctx, d, func(fs.Entry) error { return nil })
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadDir(%q) of a missing dir: err = %v, want fs.ErrNotExist", d, err)
		}
	}
	if err := tree.ReadDir(ctx, "a-c", func(fs.Entry) error { return nil }); err == nil {
		t.Errorf("ReadDir(%q) of a file: no error", "a-c")
	}
	calls := 0
	err := tree.ReadDir(ctx, "many", func(fs.Entry) error {
		calls++
		if calls == 5 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 5 {
		t.Errorf("ReadDir with fn failing at entry 5: err = %v after %d calls, want the fn error after 5", err, calls)
	}
}

func entryPaths(es []fs.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}
