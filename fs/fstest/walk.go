package fstest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// walk collects Walk(r) and checks strict byte order and that only files
// are yielded.
func walk(t *testing.T, tree fs.Tree, r fs.Range) []fs.Entry {
	t.Helper()
	var got []fs.Entry
	err := tree.Walk(context.Background(), r, func(e fs.Entry) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Errorf("Walk(%+v): %v", r, err)
	}
	for i, e := range got {
		if e.IsDir() {
			t.Errorf("Walk(%+v) yielded directory %q", r, e.Path)
		}
		if i > 0 && got[i-1].Path >= e.Path {
			t.Errorf("Walk(%+v): %q then %q, want strictly increasing byte order", r, got[i-1].Path, e.Path)
		}
	}
	return got
}

// expectWalk compares what Walk(r) yields with the fixture's files in r.
func expectWalk(t *testing.T, tree fs.Tree, files []fileInfo, r fs.Range) {
	t.Helper()
	got := walk(t, tree, r)
	var want []fileInfo
	for _, f := range files {
		if r.Contains(f.path) {
			want = append(want, f)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Walk(%+v): %d files, want %d\n got: %q\nwant: %q", r, len(got), len(want), entryPaths(got), infoPaths(want))
		return
	}
	for i := range got {
		checkFileEntry(t, fmt.Sprintf("Walk(%+v)[%d]", r, i), got[i], want[i])
	}
}

func infoPaths(fs []fileInfo) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.path
	}
	return out
}

func testWalkAll(t *testing.T, tree fs.Tree, files []fileInfo) {
	expectWalk(t, tree, files, fs.All)
}

func testWalkRange(t *testing.T, tree fs.Tree, files []fileInfo) {
	n := len(files)
	ranges := []fs.Range{
		{Start: files[n/3].path, End: files[2*n/3].path},                 // bounds on existing files
		{Start: files[n/3].path + "\x00", End: files[n/2].path + "\x00"}, // bounds just past files
		{Start: files[n-1].path},                                         // only the last file
		{Start: "a-c", End: "a/b"},                                       // "a-c" < "a.txt" < "a/" < "a/b"
		{Start: "a/", End: "a0"},                                         // exactly the directory a
		{Start: "a/b/c", End: "a/b/c/d/e/f/deep.txt\x00"},                // starts at a directory name
		{Start: "a/b/c/d/e", End: "a/b/c/sibling.txt"},                   // starts and ends inside nested dirs
		{Start: "many/f-025.txt", End: "many/f-040"},                     // the middle of a big directory
		{Start: "many/f-0255"},                                           // empty End, start between two names
		{End: "a/b/c/d/e/f/deep.txt"},                                    // empty Start
		{Start: "m", End: "m"},                                           // empty range
		{Start: "\xff"},                                                  // start past every path
		{Start: "0", End: "Z.txt"},                                       // ends before every path
	}
	for _, r := range ranges {
		expectWalk(t, tree, files, r)
	}
}

func testWalkStop(t *testing.T, tree fs.Tree, files []fileInfo) {
	calls := 0
	err := tree.Walk(context.Background(), fs.All, func(fs.Entry) error {
		calls++
		if calls == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 3 {
		t.Errorf("Walk with fn failing at file 3: err = %v after %d calls, want the fn error after 3", err, calls)
	}
}

func testWalkCancel(t *testing.T, tree fs.Tree, files []fileInfo) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	err := tree.Walk(ctx, fs.All, func(fs.Entry) error {
		calls++
		if calls == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Walk canceled during the walk: err = %v, want context.Canceled", err)
	}
	if calls >= len(files) {
		t.Errorf("Walk canceled after file 2 still yielded all %d files", calls)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	calls = 0
	err = tree.Walk(ctx2, fs.All, func(fs.Entry) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("Walk with a canceled context: err = %v after %d calls, want context.Canceled and no calls", err, calls)
	}
}
