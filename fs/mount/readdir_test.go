package mount

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// manyFiles writes n empty files with 40-byte names into dir and returns
// their names, sorted.
func manyFiles(t *testing.T, dir string, n int) []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("entry-with-a-long-name-to-fill-pages-%03d", i)
		if err := os.WriteFile(filepath.Join(dir, names[i]), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// TestMount_ReaddirPlusOnlyWhenAsked checks the mount negotiates
// READDIRPLUS_AUTO. The kernel (fs/fuse/readdir.c, fuse_use_readdirplus)
// then sends READDIRPLUS, which costs a LOOKUP and a node per entry, for a
// listing's first batch (offset 0) and for a batch after the caller
// stat(2)ed an entry of the directory, plain READDIR otherwise. Each
// getdents(2) is one request; each directory is listed once, fresh.
func TestMount_ReaddirPlusOnlyWhenAsked(t *testing.T) {
	src := t.TempDir()
	const n = 200
	want := manyFiles(t, filepath.Join(src, "plain"), n)
	manyFiles(t, filepath.Join(src, "long"), n)
	var ops opCounter
	_, mp := mountT(t, localTree(t, src), ops.options(DefaultOptions()))
	ops.take()

	// find, ls, os.ReadDir: names only.
	d, err := os.Open(filepath.Join(mp, "plain"))
	if err != nil {
		t.Fatal(err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plain listing: %d names, want %d", len(names), n)
	}
	got := ops.take()
	t.Logf("names of %d entries: %v", n, got)
	if got["READDIR"] == 0 || got["READDIRPLUS"] > 1 {
		t.Errorf("listing names only: %d READDIRPLUS and %d READDIR requests, want READDIRPLUS for the first batch at most and READDIR for the rest",
			got["READDIRPLUS"], got["READDIR"])
	}

	// ls -l: readdir(3) and lstat(2) by turns, each name stat'ed before
	// the next is read.
	d, err = os.Open(filepath.Join(mp, "long"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	seen := 0
	for {
		batch, err := d.Readdirnames(1)
		for _, name := range batch {
			if _, err := os.Lstat(filepath.Join(mp, "long", name)); err != nil {
				t.Fatal(err)
			}
		}
		seen += len(batch)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen != n {
		t.Fatalf("ls -l listing: %d names, want %d", seen, n)
	}
	got = ops.take()
	if got["READDIRPLUS"] < 2 || got["READDIR"] != 0 {
		t.Errorf("listing and stat'ing: %d READDIRPLUS and %d READDIR requests, want only READDIRPLUS",
			got["READDIRPLUS"], got["READDIR"])
	}
	t.Logf("ls -l of %d entries: %v", n, got)
}

// TestMount_FindListsEveryEntry lists a tree of 10,000 files through the
// mount with find(1) (plain READDIR after each directory's first batch)
// and with filepath.WalkDir, and checks both see every path once.
func TestMount_FindListsEveryEntry(t *testing.T) {
	src := t.TempDir()
	var want []string
	for _, dir := range []string{"flat", "a/one", "a/two", "b", "c"} {
		count := 1500
		if dir == "flat" {
			count = 4000
		}
		for _, name := range manyFiles(t, filepath.Join(src, filepath.FromSlash(dir)), count) {
			want = append(want, dir+"/"+name)
		}
	}
	if len(want) != 10000 {
		t.Fatalf("fixture has %d files", len(want))
	}
	sort.Strings(want)
	_, mp := mountT(t, localTree(t, src), DefaultOptions())

	var walked []string
	err := filepath.WalkDir(mp, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(mp, p)
			walked = append(walked, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(walked)
	if strings.Join(walked, "\n") != strings.Join(want, "\n") {
		t.Errorf("WalkDir: %d files, want %d", len(walked), len(want))
	}

	bin, err := exec.LookPath("find")
	if err != nil {
		t.Fatalf("find(1), which this test runs over the mount, is missing: %v", err)
	}
	cmd := exec.Command(bin, ".", "-type", "f")
	cmd.Dir = mp
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	found := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := range found {
		found[i] = strings.TrimPrefix(found[i], "./")
	}
	sort.Strings(found)
	if strings.Join(found, "\n") != strings.Join(want, "\n") {
		t.Errorf("find: %d files, want %d", len(found), len(want))
	}
}
