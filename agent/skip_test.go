package agent

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
	"github.com/ferry-project/ferry/transfer"
)

func TestSameObject(t *testing.T) {
	t0 := time.Unix(1700000000, 500_000_000)
	md5a, md5b := "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	for _, c := range []struct {
		name     string
		src, dst fs.Entry
		rule     string
		want     bool
	}{
		{"sizes differ", fs.Entry{Size: 1, ModTime: t0}, fs.Entry{Size: 2, ModTime: t0}, SkipModTime, false},
		{"size rule", fs.Entry{Size: 5, ModTime: t0}, fs.Entry{Size: 5}, SkipSize, true},
		{"none rule", fs.Entry{Size: 5, ETag: md5a}, fs.Entry{Size: 5, ETag: md5a}, SkipNone, false},
		{"same ETag", fs.Entry{Size: 5, ETag: md5a, ModTime: t0}, fs.Entry{Size: 5, ETag: md5a}, SkipModTime, true},
		{"different MD5s", fs.Entry{Size: 5, ETag: md5a, ModTime: t0}, fs.Entry{Size: 5, ETag: md5b, ModTime: t0.Add(time.Hour)}, SkipModTime, false},
		{"incomparable ETags, newer copy", fs.Entry{Size: 5, ETag: md5a, ModTime: t0}, fs.Entry{Size: 5, ETag: "FhOeMm3BQkPzyO2JpDBOKRDgLOJM", ModTime: t0.Add(time.Minute)}, SkipModTime, true},
		{"multipart ETag, older copy", fs.Entry{Size: 5, ETag: md5a, ModTime: t0}, fs.Entry{Size: 5, ETag: md5b + "-2", ModTime: t0.Add(-time.Minute)}, SkipModTime, false},
		{"copy in the same second", fs.Entry{Size: 5, ModTime: t0}, fs.Entry{Size: 5, ModTime: t0.Truncate(time.Second)}, SkipModTime, true},
		{"source changed after the copy", fs.Entry{Size: 5, ModTime: t0.Add(2 * time.Second)}, fs.Entry{Size: 5, ModTime: t0}, SkipModTime, false},
		{"unknown source time", fs.Entry{Size: 5}, fs.Entry{Size: 5, ModTime: t0}, SkipModTime, false},
	} {
		if got := sameObject(c.src, c.dst, c.rule); got != c.want {
			t.Errorf("%s: sameObject = %v, want %v", c.name, got, c.want)
		}
	}
}

func writeFile(t *testing.T, root, rel, data string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestSkipTree_Walk(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	old, later := time.Now().Add(-time.Hour), time.Now()
	writeFile(t, src, "a/same.txt", "same", old)
	writeFile(t, dst, "a/same.txt", "same", later)
	writeFile(t, src, "a/resized.txt", "longer now", old)
	writeFile(t, dst, "a/resized.txt", "short", later)
	writeFile(t, src, "b/new.txt", "new", old)
	writeFile(t, dst, "b/gone.txt", "gone", later)
	writeFile(t, dst, "b/gone.log", "excluded", later)
	writeFile(t, src, "c/touched.txt", "abcd", later.Add(time.Minute))
	writeFile(t, dst, "c/touched.txt", "wxyz", old)
	writeFile(t, dst, "z/vanished-tail.txt", "tail", later)
	st, _ := local.New(src)
	dt, _ := local.New(dst)
	f, _ := transfer.NewFilter(nil, []string{"*.log"})
	sk, err := local.NewSink(dst)
	if err != nil {
		t.Fatal(err)
	}
	s := &skipTree{Tree: st, dst: dt, rule: SkipModTime, filter: f, deleter: deletingSink{sk, dst}, log: discardLogger()}
	var got []string
	if err := s.Walk(context.Background(), fs.All, func(e fs.Entry) error {
		got = append(got, e.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a/resized.txt", "b/new.txt", "c/touched.txt"}
	if !slices.Equal(got, want) {
		t.Fatalf("walked %v, want %v", got, want)
	}
	if s.skipped.Load() != 1 || s.deleted.Load() != 2 {
		t.Fatalf("skipped %d, deleted %d; want 1 and 2", s.skipped.Load(), s.deleted.Load())
	}
	left := readFiles(t, dst)
	if _, ok := left["b/gone.txt"]; ok {
		t.Fatal("a vanished object was kept")
	}
	if _, ok := left["z/vanished-tail.txt"]; ok {
		t.Fatal("a vanished object after the last source entry was kept")
	}
	if _, ok := left["b/gone.log"]; !ok {
		t.Fatal("an object the filters exclude was deleted")
	}

	// Without a deleter nothing is removed; a sub-range sees only its part.
	writeFile(t, dst, "b/gone.txt", "gone", later)
	s = &skipTree{Tree: st, dst: dt, rule: SkipModTime, filter: f, log: discardLogger()}
	got = nil
	s.Walk(context.Background(), fs.Range{Start: "b/", End: "c/"}, func(e fs.Entry) error {
		got = append(got, e.Path)
		return nil
	})
	if !slices.Equal(got, []string{"b/new.txt"}) {
		t.Fatalf("sub-range walked %v", got)
	}
	if _, ok := readFiles(t, dst)["b/gone.txt"]; !ok {
		t.Fatal("deleted without the delete option")
	}
}

func TestListTree_Walk(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	old := time.Now().Add(-time.Hour)
	var paths []string
	for _, p := range []string{"p/a", "p/b", "p/c", "p/d"} {
		writeFile(t, src, p, "data "+p, old)
		paths = append(paths, p)
	}
	writeFile(t, dst, "p/b", "data p/b", time.Now())
	paths = append(paths, "p/missing")
	if err := os.MkdirAll(filepath.Join(src, "p", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths = append(paths, "p/dir")
	slices.Sort(paths)
	st, _ := local.New(src)
	dt, _ := local.New(dst)
	lt := &listTree{Tree: st, paths: paths, skip: destSkip(dt, SkipModTime)}
	var got []string
	if err := lt.Walk(context.Background(), fs.Range{Start: "p/", End: "p/d"}, func(e fs.Entry) error {
		got = append(got, e.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"p/a", "p/c"}) || lt.skipped.Load() != 1 {
		t.Fatalf("walked %v (skipped %d), want p/a and p/c with p/b skipped", got, lt.skipped.Load())
	}
	if _, total := lt.takeMisses(0); total != 0 {
		t.Fatalf("%d misses in [p/, p/d)", total)
	}
	got = nil
	lt.Walk(context.Background(), fs.Range{Start: "p/d"}, func(e fs.Entry) error {
		got = append(got, e.Path)
		return nil
	})
	if !slices.Equal(got, []string{"p/d"}) {
		t.Fatalf("walked %v after p/d", got)
	}
	misses, total := lt.takeMisses(1)
	if total != 2 || len(misses) != 1 || misses[0].Path != "p/missing" || misses[0].Error != "listed path not found at the source" {
		t.Fatalf("misses after the first = %+v (total %d); want p/dir then p/missing", misses, total)
	}
}
