package mount

import (
	"crypto/sha256"
	"io"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// walkInfo is what filepath.WalkDir sees of one path.
type walkInfo struct {
	dir  bool
	size int64
}

func walk(t *testing.T, root string) map[string]walkInfo {
	t.Helper()
	out := make(map[string]walkInfo)
	err := filepath.WalkDir(root, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		w := walkInfo{dir: d.IsDir()}
		if !w.dir {
			w.size = info.Size()
		}
		out[filepath.ToSlash(rel)] = w
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// find runs find(1) with a -printf format and returns its sorted lines.
func find(t *testing.T, root string, args ...string) []string {
	t.Helper()
	out, err := exec.Command("find", append([]string{root}, args...)...).Output()
	if err != nil {
		t.Fatalf("find %s %v: %v", root, args, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	sort.Strings(lines)
	return lines
}

func sha(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	var s [32]byte
	h.Sum(s[:0])
	return s
}

func TestMount_Tree(t *testing.T) {
	src := t.TempDir()
	files := fixture(t, src)
	_, mp := mountT(t, localTree(t, src), DefaultOptions())

	want, got := walk(t, src), walk(t, mp)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WalkDir of the mount differs from the source:\n got %v\nwant %v", got, want)
	}
	if len(got) < len(files) {
		t.Fatalf("mount shows %d paths, fixture has %d files", len(got), len(files))
	}
	for _, args := range [][]string{
		{"-mindepth", "1", "-type", "f", "-printf", "%P\t%s\n"},
		{"-mindepth", "1", "-type", "d", "-printf", "%P\n"},
	} {
		if g, w := find(t, mp, args...), find(t, src, args...); !reflect.DeepEqual(g, w) {
			t.Errorf("find %v differs:\n got %q\nwant %q", args, g, w)
		}
	}
	for p, b := range files {
		if got, want := sha(t, filepath.Join(mp, p)), sha256.Sum256(b); got != want {
			t.Errorf("%s: SHA-256 through the mount differs from the source", p)
		}
	}
}

func TestMount_Attributes(t *testing.T) {
	src := t.TempDir()
	fixture(t, src)
	mtime := time.Date(2021, 3, 4, 5, 6, 7, 890, time.UTC)
	if err := os.Chtimes(filepath.Join(src, "plain.txt"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	_, mp := mountT(t, localTree(t, src), DefaultOptions())

	for p, wantMode := range map[string]os.FileMode{
		"plain.txt": 0o444, "nested": os.ModeDir | 0o555, "nested/a/b/c/deep.txt": 0o444, "emptydir": os.ModeDir | 0o555,
	} {
		fi, err := os.Stat(filepath.Join(mp, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != wantMode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), wantMode)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != uint32(os.Getuid()) || st.Gid != uint32(os.Getgid()) {
			t.Errorf("%s: owner %d:%d, want the mounting user %d:%d", p, st.Uid, st.Gid, os.Getuid(), os.Getgid())
		}
		if st.Nlink != 1 {
			t.Errorf("%s: nlink %d, want 1", p, st.Nlink)
		}
	}
	fi, err := os.Stat(filepath.Join(mp, "plain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(mtime) || fi.Size() != int64(len("plain\n")) {
		t.Errorf("plain.txt: mtime %v size %d, want %v and %d", fi.ModTime(), fi.Size(), mtime, len("plain\n"))
	}
	if _, err := os.Stat(filepath.Join(mp, "no-such-file")); !os.IsNotExist(err) {
		t.Errorf("Stat of a missing name: %v, want ENOENT", err)
	}
	names, err := exec.Command("ls", "-a", filepath.Join(mp, "nested")).Output()
	if err != nil || string(names) != ".\n..\na\n" {
		t.Errorf("ls -a nested = %q, %v; want . .. a", names, err)
	}
}

func TestMount_LazyListing(t *testing.T) {
	src := t.TempDir()
	fixture(t, src)
	ct := newCountingTree(localTree(t, src))
	o := DefaultOptions()
	o.EntryTTL = time.Hour // the kernel and the listing cache both hold
	_, mp := mountT(t, ct, o)

	if n := len(ct.readDirCounts()); n != 0 {
		t.Fatalf("mount listed %d directories before any lookup, want none", n)
	}
	if _, err := os.Stat(filepath.Join(mp, "nested/a/b/c/deep.txt")); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"": 1, "nested": 1, "nested/a": 1, "nested/a/b": 1, "nested/a/b/c": 1}
	if got := ct.readDirCounts(); !reflect.DeepEqual(got, want) {
		t.Errorf("a lookup of one deep file listed %v, want exactly its ancestors %v", got, want)
	}
	for i := 0; i < 3; i++ {
		if _, err := os.ReadDir(filepath.Join(mp, "many")); err != nil {
			t.Fatal(err)
		}
	}
	if n := ct.readDirCounts()["many"]; n != 1 {
		t.Errorf("three readdirs within the entry TTL listed the directory %d times, want 1", n)
	}
}

func TestMount_RelistAfterTTL(t *testing.T) {
	src := t.TempDir()
	fixture(t, src)
	ct := newCountingTree(localTree(t, src))
	o := DefaultOptions()
	o.EntryTTL, o.AttrTTL = -1, -1 // no kernel caching: the listing TTL floor applies
	_, mp := mountT(t, ct, o)

	before, err := os.ReadDir(filepath.Join(mp, "sym"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sym", "new.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(minListTTL + 50*time.Millisecond) // let the cached listing expire
	after, err := os.ReadDir(filepath.Join(mp, "sym"))
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Errorf("after the listing TTL the mount shows %d entries, want %d (new file)", len(after), len(before)+1)
	}
	b, err := os.ReadFile(filepath.Join(mp, "sym", "new.txt"))
	if err != nil || string(b) != "new" {
		t.Errorf("new file reads %q, %v", b, err)
	}
	if n := ct.readDirCounts()["sym"]; n != 2 {
		t.Errorf("directory listed %d times, want 2 (once per TTL)", n)
	}
}
