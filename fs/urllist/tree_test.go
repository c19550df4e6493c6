package urllist

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// walkAll collects Walk(r).
func walkAll(t *testing.T, tree fs.Tree, r fs.Range) []fs.Entry {
	t.Helper()
	var out []fs.Entry
	if err := tree.Walk(context.Background(), r, func(e fs.Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatalf("Walk(%+v): %v", r, err)
	}
	return out
}

// readDir collects ReadDir(dir).
func readDir(t *testing.T, tree fs.Tree, dir string) []fs.Entry {
	t.Helper()
	var out []fs.Entry
	if err := tree.ReadDir(context.Background(), dir, func(e fs.Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatalf("ReadDir(%q): %v", dir, err)
	}
	return out
}

func TestOpen_TSVMakesNoHead(t *testing.T) {
	files := map[string][]byte{"/d/one.txt": []byte("hello"), "/d/two.bin": []byte("second file, longer")}
	o := newOrigin(t, modeRanges, files)
	lines := []string{TSVHeader}
	for _, p := range []string{"/d/one.txt", "/d/two.bin"} {
		sum := md5.Sum(files[p])
		lines = append(lines, fmt.Sprintf("%s\t%d\t%s", o.url(p), len(files[p]), base64.StdEncoding.EncodeToString(sum[:])))
	}
	tree := openTree(t, writeList(t, lines...), testOptions(t))
	if n := o.count("HEAD", "") + o.count("GET", ""); n != 0 {
		t.Errorf("Open of a TSV list with sizes sent %d requests, want 0", n)
	}
	if s := tree.Summary(); s.Files != 2 || s.Probed != 0 {
		t.Errorf("Summary = %+v, want 2 files, none probed", s)
	}
	ctx := context.Background()
	for p, data := range files {
		path := o.host() + p
		sum := md5.Sum(data)
		algo, hexsum, err := tree.Checksum(ctx, path)
		if err != nil || algo != "md5" || hexsum != hex.EncodeToString(sum[:]) {
			t.Errorf("Checksum(%q) = %q, %q, %v; want md5 %x", path, algo, hexsum, err, sum)
		}
		e, err := tree.Stat(ctx, path)
		if err != nil || e.Size != int64(len(data)) || e.Version != "md5-"+hex.EncodeToString(sum[:]) {
			t.Errorf("Stat(%q) = %+v, %v; want size %d and an md5 version", path, e, err, len(data))
		}
		f, err := tree.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(f, int64(len(data)))
		f.Close()
		if err != nil || string(got) != string(data) {
			t.Errorf("read %q = %q, %v; want %q", path, got, err, data)
		}
	}
	if n := o.count("HEAD", ""); n != 0 {
		t.Errorf("%d HEAD requests, want 0", n)
	}
	if _, _, err := tree.Checksum(ctx, o.host()+"/d"); !errors.Is(err, fs.ErrIsDir) {
		t.Errorf("Checksum of a directory: err = %v, want fs.ErrIsDir", err)
	}
	if _, _, err := tree.Checksum(ctx, o.host()+"/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Checksum of a missing path: err = %v, want fs.ErrNotExist", err)
	}
}

func TestOpen_PlainListChecksumUnknown(t *testing.T) {
	o := newOrigin(t, modeRanges, map[string][]byte{"/x": []byte("abc")})
	tree := openTree(t, writeList(t, "# one url", "", o.url("/x")), testOptions(t))
	algo, hexsum, err := tree.Checksum(context.Background(), o.host()+"/x")
	if err != nil || algo != "" || hexsum != "" {
		t.Errorf("Checksum of a URL without listed MD5 = %q, %q, %v; want empty", algo, hexsum, err)
	}
	e, err := tree.Stat(context.Background(), o.host()+"/x")
	if err != nil || e.Size != 3 || !e.ModTime.Equal(originTime) {
		t.Errorf("Stat = %+v, %v; want size 3 and the Last-Modified time", e, err)
	}
	if n := o.count("HEAD", "/x"); n != 1 {
		t.Errorf("HEAD /x sent %d times, want 1", n)
	}
}

func TestOpen_UnreachableURLs(t *testing.T) {
	o := newOrigin(t, modeRanges, map[string][]byte{"/ok.txt": []byte("fine"), "/flaky/f.txt": []byte("eventually")})
	list := writeList(t, o.url("/ok.txt"), o.url("/gone.txt"), o.url("/reset/r.txt"), o.url("/flaky/f.txt"))
	opts := testOptions(t)
	opts.Concurrency = 2
	tree := openTree(t, list, opts)

	if s := tree.Summary(); s.Files != 4 || s.Probed != 4 || s.Unreachable != 2 {
		t.Errorf("Summary = %+v, want 4 files, 4 probed, 2 unreachable", s)
	}
	got := map[string]fs.Entry{}
	for _, e := range walkAll(t, tree, fs.All) {
		got[strings.TrimPrefix(e.Path, o.host())] = e
	}
	if len(got) != 4 {
		t.Fatalf("Walk yielded %d files, want 4: %v", len(got), got)
	}
	for _, p := range []string{"/gone.txt", "/reset/r.txt"} {
		if e := got[p]; e.Size != 0 || e.Version != "unreachable" {
			t.Errorf("%s: Size %d Version %q, want 0 and \"unreachable\"", p, e.Size, e.Version)
		}
	}
	if e := got["/flaky/f.txt"]; e.Size != int64(len("eventually")) {
		t.Errorf("/flaky/f.txt (503 twice, then 200): Size %d, want %d", e.Size, len("eventually"))
	}
	if n := o.count("HEAD", "/flaky/f.txt"); n != 3 {
		t.Errorf("HEAD /flaky/f.txt sent %d times, want 3 (two 503s retried)", n)
	}
	if h, g := o.count("HEAD", "/gone.txt"), o.count("GET", "/gone.txt"); h != 1 || g != 0 {
		t.Errorf("404 URL: %d HEAD and %d GET, want exactly one HEAD (a 404 is never retried)", h, g)
	}
	// net/http itself may resend an idempotent request once on a reused
	// connection, so at least 1 + RetryMax.
	if n := o.count("HEAD", "/reset/r.txt"); n < 5 {
		t.Errorf("reset URL: %d HEAD, want at least 5 (RetryMax 4 retries)", n)
	}

	ctx := context.Background()
	_, err := tree.Open(ctx, o.host()+"/gone.txt")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), o.url("/gone.txt")) || !strings.Contains(err.Error(), "404") {
		t.Errorf("Open of a 404 URL: err = %v, want fs.ErrNotExist naming the URL and the 404", err)
	}
	_, err = tree.Open(ctx, o.host()+"/reset/r.txt")
	if !errors.Is(err, ErrUnreachable) || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), o.url("/reset/r.txt")) {
		t.Errorf("Open of a resetting URL: err = %v, want ErrUnreachable naming the URL", err)
	}
	f, err := tree.Open(ctx, o.host()+"/ok.txt")
	if err != nil {
		t.Fatalf("Open of a good URL: %v", err)
	}
	defer f.Close()
	if b, err := readAll(f, 4); err != nil || string(b) != "fine" {
		t.Errorf("read /ok.txt = %q, %v", b, err)
	}
}

func TestTree_DuplicatesAndClashes(t *testing.T) {
	// Sizes are listed, so nothing is ever requested from these hosts.
	list := writeList(t, TSVHeader,
		"http://h.example/a\t1",
		"http://h.example/a/b\t2",
		"http://H.EXAMPLE:80/a\t3",    // same key as line 2
		"https://h.example/a/b\t4",    // same key as line 3
		"http://h.example/c/d/e\t5",   // c becomes a directory...
		"http://h.example/c\t6",       // ...before the file c arrives
		"http://h.example/c\t7",       // duplicate of line 7
		"http://h.example/q?x=1/2\t8", // query kept in the name
	)
	tree := openTree(t, list, testOptions(t))
	if s := tree.Summary(); s.Files != 5 || s.Duplicates != 3 {
		t.Errorf("Summary = %+v, want 5 files and 3 duplicates", s)
	}
	ctx := context.Background()
	want := []struct {
		path, key string
		size      int64
	}{
		{"h.example/a%%file", "h.example/a", 1},
		{"h.example/a/b", "h.example/a/b", 2},
		{"h.example/c%%file", "h.example/c", 6},
		{"h.example/c/d/e", "h.example/c/d/e", 5},
		{"h.example/q?x=1%2F2", "h.example/q?x=1%2F2", 8},
	}
	got := walkAll(t, tree, fs.All)
	if len(got) != len(want) {
		t.Fatalf("Walk = %v, want %d files", got, len(want))
	}
	for i, w := range want {
		if e := got[i]; e.Path != w.path || e.ObjectKey() != w.key || e.Size != w.size {
			t.Errorf("Walk[%d] = %q key %q size %d, want %q key %q size %d", i, e.Path, e.ObjectKey(), e.Size, w.path, w.key, w.size)
		}
	}
	var names []string
	for _, e := range readDir(t, tree, "h.example") {
		names = append(names, fmt.Sprintf("%s:%v", e.Path, e.IsDir()))
	}
	wantNames := "h.example/a:true h.example/a%%file:false h.example/c:true h.example/c%%file:false h.example/q?x=1%2F2:false"
	if strings.Join(names, " ") != wantNames {
		t.Errorf("ReadDir(h.example) = %v, want %s", names, wantNames)
	}
	if e, err := tree.Stat(ctx, "h.example/c/d"); err != nil || !e.IsDir() {
		t.Errorf("Stat of a directory = %+v, %v", e, err)
	}
	if _, err := tree.Open(ctx, "h.example/c"); !errors.Is(err, fs.ErrIsDir) {
		t.Errorf("Open of a directory: err = %v, want fs.ErrIsDir", err)
	}
	if err := tree.ReadDir(ctx, "h.example/a/b", func(fs.Entry) error { return nil }); !errors.Is(err, fs.ErrNotDir) {
		t.Errorf("ReadDir of a file: err = %v, want fs.ErrNotDir", err)
	}
}

func TestTree_ManyEntriesPaged(t *testing.T) {
	const n = 2*pageSize + 345
	lines := []string{TSVHeader}
	for i := n - 1; i >= 0; i-- { // reverse order: the index sorts
		lines = append(lines, fmt.Sprintf("http://h.example/dir/f%05d\t%d", i, i))
	}
	lines = append(lines, "http://h.example/dir-after\t1", "http://h.example/dir.before\t1")
	tree := openTree(t, writeList(t, lines...), testOptions(t))

	all := walkAll(t, tree, fs.All)
	if len(all) != n+2 {
		t.Fatalf("Walk yielded %d files, want %d", len(all), n+2)
	}
	if all[0].Path != "h.example/dir-after" || all[1].Path != "h.example/dir.before" || all[n+1].Path != fmt.Sprintf("h.example/dir/f%05d", n-1) {
		t.Errorf("Walk order: first %q, %q, last %q", all[0].Path, all[1].Path, all[n+1].Path)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Path >= all[i].Path {
			t.Fatalf("Walk: %q before %q", all[i-1].Path, all[i].Path)
		}
	}
	part := walkAll(t, tree, fs.Range{Start: "h.example/dir/f00999", End: "h.example/dir/f02001"})
	if len(part) != 1002 || part[0].Size != 999 || part[1001].Size != 2000 {
		t.Errorf("Walk of a range: %d files, want 1002 from size 999 to 2000", len(part))
	}
	kids := readDir(t, tree, "h.example/dir")
	if len(kids) != n || kids[n-1].Size != n-1 {
		t.Errorf("ReadDir of a %d-file directory: %d entries", n, len(kids))
	}
	top := readDir(t, tree, "h.example")
	if len(top) != 3 || top[0].Path != "h.example/dir" || !top[0].IsDir() || top[1].Path != "h.example/dir-after" {
		t.Errorf("ReadDir(h.example) = %v, want dir, dir-after, dir.before in name order", top)
	}
}
